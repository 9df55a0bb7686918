-- KEYS: following:{A}, following-ix:{A}
-- ARGV: followee ids
-- Returns {false} when following:{A} is not loaded (or partly evicted), else
-- {1, then 1 or 0 per id}: whether A follows it (common.lua, follows_of).
local follows = follows_of(KEYS[1], KEYS[2], ARGV)
if not follows then return { false } end
local out = { 1 }
for i = 1, #follows do
  if follows[i] then out[i + 1] = 1 else out[i + 1] = 0 end
end
return out
