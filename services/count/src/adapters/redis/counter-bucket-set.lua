-- KEYS: one counter bucket (a hash: field = entity id, value = counter value)
-- ARGV: mode ('nx' = only fields not cached yet | 'set' = overwrite), maxFields, ttlMs,
--       then field, value pairs
-- Keeps the bucket at or below maxFields (so it stays a listpack): before adding a
-- field to a full bucket, random fields are dropped (they refill from MySQL).
-- The bucket's TTL is set once, when it has none. Returns the fields written.
local key = KEYS[1]
local mode, max, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local written = 0
for i = 4, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  local present = redis.call('HEXISTS', key, field) == 1
  if mode == 'set' or not present then
    if not present then
      local len = redis.call('HLEN', key)
      if len >= max then
        local victims = redis.call('HRANDFIELD', key, len - max + 1)
        redis.call('HDEL', key, unpack(victims))
      end
    end
    redis.call('HSET', key, field, value)
    written = written + 1
  end
end
if written > 0 and redis.call('PTTL', key) == -1 then redis.call('PEXPIRE', key, ttl) end
return written
