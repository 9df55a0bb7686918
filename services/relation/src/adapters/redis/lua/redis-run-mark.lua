-- KEYS: redis-run marker
-- ARGV: this server's run_id (INFO server)
-- Records which Redis process the keyspace belongs to. Returns 0 when the marker
-- already names this run, 1 when it names another one (the server restarted and
-- reloaded its data: writes of its last moments may be missing), 2 when there is
-- no marker (a new or flushed keyspace). Only one caller sees each change.
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if cur then return 1 end
return 2
