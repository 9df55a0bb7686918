-- KEYS: pending:{A}, meta:{A} of one or more users A (on a cluster, of one slot)
-- ARGV: per user, in KEYS order: ttlMs, n, then the n (to, version) pairs the
-- persister has written
-- Compare-and-delete: an entry goes only if it still holds that version (a newer
-- transition of the pair stays pending). When anything of a user went, its persist
-- epoch moves on (max(old + 1, TIME µs): never repeats, even after meta:{A} expired),
-- so a loader that read the database before this point retries.
-- Returns {cleared, epoch} per user, flat, in KEYS order.
local out = {}
local a = 1
for k = 1, #KEYS, 2 do
  local pending, meta = KEYS[k], KEYS[k + 1]
  local ttl, last = ARGV[a], a + 1 + 2 * tonumber(ARGV[a + 1])
  local cleared = 0
  for i = a + 2, last, 2 do
    local e = decode_pending(redis.call('HGET', pending, ARGV[i]))
    if e and e.version == tonumber(ARGV[i + 1]) then
      redis.call('HDEL', pending, ARGV[i])
      redis.call('HDEL', meta, 'p:' .. ARGV[i])
      cleared = cleared + 1
    end
  end
  local epoch = redis.call('HGET', meta, 'e') or '0'
  if cleared > 0 then
    epoch = num_str(math.max(to_num(epoch, 0) + 1, now_us()))
    redis.call('HSET', meta, 'e', epoch)
    if redis.call('PTTL', meta) < 0 then redis.call('PEXPIRE', meta, ttl) end
  end
  out[#out + 1] = cleared
  out[#out + 1] = epoch
  a = last + 1
end
return out
