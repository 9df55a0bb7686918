-- KEYS: fans:{B}, fansv:{B}
-- ARGV: from, action 'f'|'u', version, timeMs, limit, tombstoneLimit, ttlMs
-- The fans step of one transition A→B, run after following:{A} changed. Idempotent
-- and order-insensitive through per-member versions. On a cold window the step is
-- recorded all the same (so a shard load that has not seen it yet cannot lose it).
local fans, fansv = KEYS[1], KEYS[2]
if not fans_state(fans, fansv) then
  redis.call('ZADD', fans, 0, SENTINEL)
  redis.call('HSET', fansv, '#l', '0')
end
local r = fans_apply(fans, fansv, ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), true)
if r ~= 'INVALIDATED' then
  redis.call('PEXPIRE', fans, ARGV[7])
  redis.call('PEXPIRE', fansv, ARGV[7])
end
return r
