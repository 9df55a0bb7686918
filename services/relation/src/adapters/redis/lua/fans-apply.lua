-- KEYS: fans:{B}, fansv:{B} of one or more users B (on a cluster, of one slot)
-- ARGV: limit, tombstoneLimit, then per B, in KEYS order: ttlMs, n, then n steps
-- (from, action 'f'|'u', version, timeMs)
-- The fans steps of transitions A→B, each run after following:{A} changed, one
-- after the other as if each were its own call. Idempotent and order-insensitive
-- through per-member versions. On a cold window a step is recorded all the same
-- (so a shard load that has not seen it yet cannot lose it).
-- Returns each step's result, in ARGV order.
local limit, tomb_limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
local a = 3
for k = 1, #KEYS, 2 do
  local fans, fansv = KEYS[k], KEYS[k + 1]
  local ttl, last = ARGV[a], a + 1 + 4 * tonumber(ARGV[a + 1])
  for i = a + 2, last, 4 do
    if not fans_state(fans, fansv) then
      redis.call('ZADD', fans, 0, SENTINEL)
      redis.call('HSET', fansv, '#l', '0')
    end
    local r = fans_apply(fans, fansv, ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), limit, tomb_limit, true)
    if r ~= 'INVALIDATED' then
      redis.call('PEXPIRE', fans, ttl)
      redis.call('PEXPIRE', fansv, ttl)
    end
    out[#out + 1] = r
  end
  a = last + 1
end
return out
