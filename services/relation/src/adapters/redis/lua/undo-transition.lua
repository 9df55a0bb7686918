-- KEYS: following:{A}, meta:{A}, pending:{A}, outbox:{A}, following-ix:{A}
-- ARGV: from, to, appliedVersion, nowMs, ttlMs
-- Reverts the transition `appliedVersion` of A→to (its publish failed) by a new,
-- higher-versioned opposite transition, recorded pending and queued in A's outbox
-- in the same atomic step. The failed transition itself is queued first: its
-- publish may not have reached Kafka, and every transition in Redis must have its
-- event (a duplicate is harmless, the persister keeps only newer versions).
-- Works on a cold key too: the overlay is what a later load applies.
-- Returns {'NOOP'} | {'CHANGED', action, version, occurredAtMs, source}.
local following, meta, pending, outbox, ix = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local from, to, applied, now_ms, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]

local e = decode_pending(redis.call('HGET', pending, to))
-- someone already moved the edge on (or it is persisted): nothing of ours to undo
if not e or e.version ~= applied then return { 'NOOP' } end

local state = following_state(following, ix)
-- what is left of a partly evicted list would miss this undo: drop it, a load rebuilds it
if not state then redis.call('DEL', following, ix) end
local v = next_version(meta, pending)
local action, time, prev
if e.action == 'f' then
  action, time, prev = 'u', now_ms, e.time
  if state then
    redis.call('ZREM', following, to)
    following_removed(ix, state, to)
  end
else
  -- restore the edge where it was listed (its old follow time), so the shards
  -- and the cache agree on its place whether or not the unfollow reached them
  action, prev = 'f', 0
  if e.prev > 0 then time = e.prev else time = now_ms end
  if state then
    redis.call('ZADD', following, time, to)
    following_added(following, ix, state, to)
  end
end
redis.call('HSET', pending, to, encode_pending(action, v, time, e.source, prev))
if state then following_expire(following, ix, ttl) end
redis.call('PEXPIRE', meta, ttl)
redis.call('RPUSH', outbox, from .. '|' .. to .. '|' .. e.action .. '|' .. num_str(e.version) .. '|' .. num_str(e.time) .. '|' .. e.source)
redis.call('RPUSH', outbox, from .. '|' .. to .. '|' .. action .. '|' .. num_str(v) .. '|' .. num_str(time) .. '|' .. e.source)
return { 'CHANGED', action, num_str(v), num_str(time), e.source }
