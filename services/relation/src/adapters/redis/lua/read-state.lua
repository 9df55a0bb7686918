-- KEYS: following:{A}, meta:{A}, following-ix:{A}
-- Returns {loaded 0|1, persist epoch}. A loader reads the epoch BEFORE reading the
-- database and hands it to load, which refuses if the persister cleared pending
-- entries in between. A list whose index is gone is not loaded (common.lua).
local loaded = 0
if following_state(KEYS[1], KEYS[3]) then loaded = 1 end
return { loaded, redis.call('HGET', KEYS[2], 'e') or '0' }
