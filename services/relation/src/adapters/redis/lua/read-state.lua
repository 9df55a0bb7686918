-- KEYS: following:{A}, meta:{A}
-- Returns {loaded 0|1, persist epoch}. A loader reads the epoch BEFORE reading the
-- database and hands it to load, which refuses if the persister cleared pending
-- entries in between.
local loaded = 0
if redis.call('ZSCORE', KEYS[1], SENTINEL) then loaded = 1 end
return { loaded, redis.call('HGET', KEYS[2], 'e') or '0' }
