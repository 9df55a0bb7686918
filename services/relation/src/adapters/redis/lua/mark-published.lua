-- KEYS: pending:{A}, meta:{A}
-- ARGV: to, version
-- Notes that Kafka acknowledged transition `version` of A→to, while it is still the
-- pair's pending one, so a request of another instance that found the edge already
-- in the state it asked for (and waits for this publish's outcome) can answer.
-- Cleared with the pending entry (clear-pending.lua); expires with meta:{A}.
local pending, meta = KEYS[1], KEYS[2]
local e = decode_pending(redis.call('HGET', pending, ARGV[1]))
if not e or e.version ~= tonumber(ARGV[2]) then return 0 end
if redis.call('EXISTS', meta) == 0 then return 0 end
redis.call('HSET', meta, 'p:' .. ARGV[1], ARGV[2])
return 1
