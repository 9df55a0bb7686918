-- KEYS: following:{A}, following-ix:{A}
-- ARGV: the followee ids joined by commas (one argument: a hundred ids cost the
-- caller's client far less as one argument than as a hundred), and how many
-- Returns false (nil) when following:{A} is not loaded (or partly evicted).
-- Else, when the list is better read whole than probed for that many ids
-- (common.lua, read_whole), every member of the list, the sentinel among them:
-- the caller looks the ids up itself, and Redis neither splits nor answers
-- them one by one. Else a string of one flag per id, '1' when A follows it,
-- '0' when not (common.lua, probe_follows).
local s = redis.call('ZSCORE', KEYS[1], SENTINEL)
if not s then return false end
if read_whole(KEYS[1], s, tonumber(ARGV[2])) then return redis.call('ZRANGE', KEYS[1], 0, -1) end
local ids = {}
for id in string.gmatch(ARGV[1], '[^,]+') do ids[#ids + 1] = id end
local follows = probe_follows(KEYS[1], KEYS[2], ids, s)
if not follows then return false end
local out = {}
for i = 1, #follows do
  if follows[i] then out[i] = '1' else out[i] = '0' end
end
return table.concat(out)
