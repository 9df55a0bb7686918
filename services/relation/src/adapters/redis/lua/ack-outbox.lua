-- KEYS: outbox:{A}
-- ARGV: versions of published entries
-- Removes those entries (matched by version, field 4); returns how many remain.
local outbox = KEYS[1]
local done = {}
for i = 1, #ARGV do done[ARGV[i]] = true end
local all = redis.call('LRANGE', outbox, 0, -1)
for i = 1, #all do
  local v = string.match(all[i], '^%d+|%d+|[fu]|(%d+)|')
  if v and done[v] then redis.call('LREM', outbox, 1, all[i]) end
end
return redis.call('LLEN', outbox)
