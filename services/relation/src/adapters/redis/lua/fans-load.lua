-- KEYS: fans:{B}, fansv:{B}
-- ARGV: limit, tombstoneLimit, ttlMs, then (from, timeMs, version) per active shard
-- row: the newest limit + 1 fans of B (fewer when B has fewer).
-- Merges the rows into the window by version, like steps, and marks it loaded.
-- Returns {'ALREADY_LOADED'} | {'LOADED', count, complete 0|1}.
local fans, fansv = KEYS[1], KEYS[2]
local limit, tomb_limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local state = fans_state(fans, fansv)
if state == '1' then return { 'ALREADY_LOADED' } end
if not state then
  redis.call('ZADD', fans, 0, SENTINEL)
  redis.call('HSET', fansv, '#l', '0')
end

local rows = {}
for i = 4, #ARGV, 3 do
  rows[#rows + 1] = { from = ARGV[i], time = tonumber(ARGV[i + 1]), id = tonumber(ARGV[i]), version = tonumber(ARGV[i + 2]) }
end
table.sort(rows, function(a, b) return above(a.time, a.id, b.time, b.id) end)
-- the shard holds more fans than the window keeps: nothing at or below the
-- (limit+1)-th row is known here
if #rows > limit then
  local edge = rows[limit + 1]
  raise_floor(fansv, edge.time, edge.id)
  for i = #rows, limit + 1, -1 do rows[i] = nil end
end
for i = 1, #rows do
  local r = rows[i]
  fans_apply(fans, fansv, r.from, 'f', r.version, r.time, limit, tomb_limit, false)
end
cut_below_floor(fans, fansv)
trim(fans, fansv, limit)
redis.call('HSET', fansv, '#l', '1')
redis.call('PEXPIRE', fans, ttl)
redis.call('PEXPIRE', fansv, ttl)
local complete = 1
if redis.call('HEXISTS', fansv, '#f') == 1 then complete = 0 end
return { 'LOADED', redis.call('ZCARD', fans) - 1, complete }
