-- KEYS: a lock key
-- ARGV: owner token
-- Compare-and-delete: releases the lock only if this owner still holds it (its
-- lease may have run out and another owner taken it). Returns 1 if released.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
