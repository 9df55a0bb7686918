-- KEYS: pending-index
-- ARGV: nowMs, claimScore, limit
-- Takes up to `limit` users whose check is due (score <= now) and moves each one's
-- score to claimScore (now + lease + 0.5: a writer's mark is a whole number of ms,
-- so it can never equal a claim), so another instance's pass skips them until the
-- lease ends. Returns the claimed user ids.
local index = KEYS[1]
local due = redis.call('ZRANGEBYSCORE', index, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #due do
  redis.call('ZADD', index, ARGV[2], due[i])
end
return due
