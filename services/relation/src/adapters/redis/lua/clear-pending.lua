-- KEYS: pending:{A}, meta:{A}
-- ARGV: ttlMs, then (to, version) pairs the persister has written
-- Compare-and-delete: an entry goes only if it still holds that version (a newer
-- transition of the pair stays pending). When anything went, the persist epoch
-- moves on (max(old + 1, TIME µs): never repeats, even after meta:{A} expired), so
-- a loader that read the database before this point retries.
-- Returns {cleared, epoch}.
local pending, meta = KEYS[1], KEYS[2]
local cleared = 0
for i = 2, #ARGV, 2 do
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
  if redis.call('PTTL', meta) < 0 then redis.call('PEXPIRE', meta, ARGV[1]) end
end
return { cleared, epoch }
