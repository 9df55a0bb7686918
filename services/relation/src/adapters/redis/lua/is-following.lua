-- KEYS: following:{A}, following-ix:{A}
-- ARGV: the followee ids joined by commas (one argument: a hundred ids cost the
-- caller's client far less as one argument than as a hundred)
-- Returns false (nil) when following:{A} is not loaded (or partly evicted), else
-- a string of one flag per id, '1' when A follows it, '0' when not
-- (common.lua, follows_of).
local ids = {}
for id in string.gmatch(ARGV[1], '[^,]+') do ids[#ids + 1] = id end
local follows = follows_of(KEYS[1], KEYS[2], ids)
if not follows then return false end
local out = {}
for i = 1, #follows do
  if follows[i] then out[i] = '1' else out[i] = '0' end
end
return table.concat(out)
