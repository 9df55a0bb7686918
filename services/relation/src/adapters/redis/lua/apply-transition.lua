-- KEYS: following:{A}, meta:{A}, pending:{A}, following-ix:{A}
-- ARGV: to, action 'f'|'u', nowMs, source, cap, ttlMs
-- Returns {'NOT_LOADED'} | {'NOOP'} | {'CAP_EXCEEDED'} | {'CHANGED', version, occurredAtMs, source}.
local following, meta, pending, ix = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local to, action, now_ms, source, cap, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local state = following_state(following, ix)
if not state then return { 'NOT_LOADED' } end

local entry, v
if action == 'f' then
  -- an indexed list answers membership from its index (ZSCORE would scan the listpack)
  if state == 'indexed' then
    if redis.call('SISMEMBER', ix, to) == 1 then return { 'NOOP' } end
  elseif redis.call('ZSCORE', following, to) then
    return { 'NOOP' }
  end
  if redis.call('ZCARD', following) - 1 >= cap then return { 'CAP_EXCEEDED' } end
  redis.call('ZADD', following, now_ms, to)
  following_added(following, ix, state, to)
  v = next_version(meta, pending)
  entry = encode_pending('f', v, tonumber(now_ms), source, 0)
else
  if state == 'indexed' and redis.call('SISMEMBER', ix, to) == 0 then return { 'NOOP' } end
  -- the follow time goes into the pending entry (a scan of a big listpack: writes are rare next to reads)
  local current = redis.call('ZSCORE', following, to)
  if not current then return { 'NOOP' } end
  redis.call('ZREM', following, to)
  following_removed(ix, state, to)
  -- keep the edge's follow time (and its source, if still pending) for an undo
  local prev = decode_pending(redis.call('HGET', pending, to))
  if prev and prev.action == 'f' then source = prev.source end
  v = next_version(meta, pending)
  entry = encode_pending('u', v, tonumber(now_ms), source, tonumber(current))
end
redis.call('HSET', pending, to, entry)
following_expire(following, ix, ttl)
redis.call('PEXPIRE', meta, ttl)
return { 'CHANGED', num_str(v), now_ms, source }
