-- KEYS: pending-index
-- ARGV: user, claimScore, nextDueMs ('' to remove the user)
-- Compare-and-set after a sweep: only if the user's score is still the claim (no
-- writer marked the user since), schedule the next check or drop the user.
-- Returns 1 when applied, 0 when a writer's newer mark stays.
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
