-- KEYS: following:{A}, meta:{A}, pending:{A}
-- ARGV: to, action 'f'|'u', nowMs, source, cap, ttlMs
-- Returns {'NOT_LOADED'} | {'NOOP'} | {'CAP_EXCEEDED'} | {'CHANGED', version, occurredAtMs, source}.
local following, meta, pending = KEYS[1], KEYS[2], KEYS[3]
local to, action, now_ms, source, cap, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
if not redis.call('ZSCORE', following, SENTINEL) then return { 'NOT_LOADED' } end

local current = redis.call('ZSCORE', following, to)
local entry, v
if action == 'f' then
  if current then return { 'NOOP' } end
  if redis.call('ZCARD', following) - 1 >= cap then return { 'CAP_EXCEEDED' } end
  redis.call('ZADD', following, now_ms, to)
  v = next_version(meta, pending)
  entry = encode_pending('f', v, tonumber(now_ms), source, 0)
else
  if not current then return { 'NOOP' } end
  redis.call('ZREM', following, to)
  -- keep the edge's follow time (and its source, if still pending) for an undo
  local prev = decode_pending(redis.call('HGET', pending, to))
  if prev and prev.action == 'f' then source = prev.source end
  v = next_version(meta, pending)
  entry = encode_pending('u', v, tonumber(now_ms), source, tonumber(current))
end
redis.call('HSET', pending, to, entry)
redis.call('PEXPIRE', following, ttl)
redis.call('PEXPIRE', meta, ttl)
return { 'CHANGED', num_str(v), now_ms, source }
