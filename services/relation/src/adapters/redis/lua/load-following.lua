-- KEYS: following:{A}, meta:{A}, pending:{A}, following-ix:{A}, following-tmp:{A}
-- ARGV: epochSeen, dbMaxVersion, ttlMs, then (to, timeMs, version) per active DB row
-- Installs following:{A} from the rows plus the pending overlay, and its index
-- when the list has more than INDEX_MIN follows (common.lua).
-- Returns {'ALREADY_LOADED'} | {'RETRY', epochNow} | {'LOADED', count}.
local following, meta, pending, ix, tmp = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if following_state(following, ix) then return { 'ALREADY_LOADED' } end
-- a set without its sentinel (or without its index) is not one we wrote whole; start over
redis.call('DEL', following, ix)

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

local count = 0
for _ in pairs(rows) do count = count + 1 end

-- A big list is built in a skiplist first (a first member longer than
-- zset-max-listpack-value makes ZADD create one; inserting thousands into a
-- listpack scans it per member: 75 ms for 5 000) and copied by ZUNIONSTORE,
-- which writes a listpack in one pass when the list fits zset-max-listpack-entries.
local dest = following
local filler = string.rep('~', 65)
if count > BIG_LIST then
  dest = tmp
  redis.call('DEL', tmp)
  redis.call('ZADD', tmp, 0, filler)
end
local args = { 0, SENTINEL }
for to, row in pairs(rows) do
  args[#args + 1] = row[1]; args[#args + 1] = to
  if #args >= 2 * CHUNK then
    redis.call('ZADD', dest, unpack(args))
    args = {}
  end
end
if #args > 0 then redis.call('ZADD', dest, unpack(args)) end
if dest == tmp then
  redis.call('ZREM', tmp, filler)
  redis.call('ZUNIONSTORE', following, 1, tmp)
  redis.call('DEL', tmp)
end
if needs_index(following, count) then build_index(following, ix) end
following_expire(following, ix, ARGV[3])

-- the counter never falls below what the database or the overlay has seen
local stored = to_num(redis.call('HGET', meta, 'v'), 0)
if maxv > stored then redis.call('HSET', meta, 'v', num_str(maxv)) end
redis.call('PEXPIRE', meta, ARGV[3])
return { 'LOADED', count }
