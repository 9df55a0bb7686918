-- KEYS: following:{A}, meta:{A}, pending:{A}
-- ARGV: epochSeen, dbMaxVersion, ttlMs, then (to, timeMs, version) per active DB row
-- Installs following:{A} from the rows plus the pending overlay.
-- Returns {'ALREADY_LOADED'} | {'RETRY', epochNow} | {'LOADED', count}.
local following, meta, pending = KEYS[1], KEYS[2], KEYS[3]
if redis.call('ZSCORE', following, SENTINEL) then return { 'ALREADY_LOADED' } end
-- a set without its sentinel is not one we wrote whole; start over
redis.call('DEL', following)

local epoch = redis.call('HGET', meta, 'e') or '0'
if epoch ~= ARGV[1] then return { 'RETRY', epoch } end

local rows = {}
for i = 4, #ARGV, 3 do
  rows[ARGV[i]] = { ARGV[i + 1], tonumber(ARGV[i + 2]) }
end

-- The overlay holds each pair's newest unpersisted transition; a row can only be
-- as new (persisted, not yet cleared), never newer, but compare anyway.
local maxv = tonumber(ARGV[2]) or 0
local pend = redis.call('HGETALL', pending)
for i = 1, #pend, 2 do
  local to, e = pend[i], decode_pending(pend[i + 1])
  if e then
    if e.version > maxv then maxv = e.version end
    local row = rows[to]
    if not row or row[2] <= e.version then
      if e.action == 'f' then rows[to] = { num_str(e.time), e.version } else rows[to] = nil end
    end
  end
end

-- ZADD in chunks: unpack() of thousands of arguments would overflow Lua's C stack.
local CHUNK = 500
local args = { 0, SENTINEL }
local count = 0
for to, row in pairs(rows) do
  args[#args + 1] = row[1]; args[#args + 1] = to
  count = count + 1
  if #args >= 2 * CHUNK then
    redis.call('ZADD', following, unpack(args))
    args = {}
  end
end
if #args > 0 then redis.call('ZADD', following, unpack(args)) end
redis.call('PEXPIRE', following, ARGV[3])

-- the counter never falls below what the database or the overlay has seen
local stored = to_num(redis.call('HGET', meta, 'v'), 0)
if maxv > stored then redis.call('HSET', meta, 'v', num_str(maxv)) end
redis.call('PEXPIRE', meta, ARGV[3])
return { 'LOADED', count }
