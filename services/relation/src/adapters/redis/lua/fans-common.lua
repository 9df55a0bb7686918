-- Helpers of the fans:{B} window (prepended after common.lua to the fans scripts).
-- fans:{B}  sorted set: member = fan id, score = follow time (ms), plus SENTINEL.
-- fansv:{B} hash: fan id -> version ("-version" = tombstone of an unfollow), and
--   '#l' '1' loaded from the shard | '0' only steps recorded so far (cold),
--   '#f' 'score:id' window floor: entries at or below it are not known here,
--        absent = the window holds every fan (complete),
--   '#t' tombstone count, '#tf' highest version of a pruned tombstone.
-- Both keys always exist together; a half that survived alone is dropped.

local function fans_state(fans, fansv)
  local has_sentinel = redis.call('ZSCORE', fans, SENTINEL)
  local mark = redis.call('HGET', fansv, '#l')
  if has_sentinel and mark then return mark end
  if has_sentinel or mark then redis.call('DEL', fans, fansv) end
  return nil
end

-- The floor as stored ('score:id', or false when the window is complete) and parsed.
local function fans_floor(fansv)
  local f = redis.call('HGET', fansv, '#f')
  if not f then return nil, nil, f end
  local s, id = string.match(f, '^(%d+):(%d+)$')
  return tonumber(s), tonumber(id), f
end

-- (s, id) > (fs, fid) in list order
local function above(s, id, fs, fid)
  return s > fs or (s == fs and id > fid)
end

local function raise_floor(fansv, s, id)
  local fs, fid = fans_floor(fansv)
  if not fs or above(s, id, fs, fid) then
    redis.call('HSET', fansv, '#f', num_str(s) .. ':' .. num_str(id))
  end
end

-- Drops members at or below the floor (and their versions): the window must be a
-- gap-free prefix of the true newest-first list.
local function cut_below_floor(fans, fansv)
  local fs, fid = fans_floor(fansv)
  if not fs then return end
  local low = redis.call('ZRANGEBYSCORE', fans, '(0', num_str(fs))
  for i = 1, #low do
    local n = tonumber(low[i])
    if n then
      local s = tonumber(redis.call('ZSCORE', fans, low[i]))
      if not above(s, n, fs, fid) then
        redis.call('ZREM', fans, low[i])
        redis.call('HDEL', fansv, low[i])
      end
    end
  end
end

-- Keeps the newest `limit` fans; the oldest go and the floor rises to them.
local function trim(fans, fansv, limit)
  local size = redis.call('ZCARD', fans) - 1
  while size > limit do
    local first = redis.call('ZRANGEBYSCORE', fans, '(0', '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    local s = first[2]
    local ids = group_desc(fans, s)
    local victim = num_str(ids[#ids])
    redis.call('ZREM', fans, victim)
    redis.call('HDEL', fansv, victim)
    raise_floor(fansv, tonumber(s), ids[#ids])
    size = size - 1
  end
end

-- Bounds the tombstones: past `limit`, the oldest go down to half of it, and '#tf'
-- remembers the newest version forgotten (a follow at or below it is ambiguous).
local function prune_tombstones(fansv, limit)
  local t = to_num(redis.call('HGET', fansv, '#t'), 0)
  if t <= limit then return end
  local all = redis.call('HGETALL', fansv)
  local tombs = {}
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 1) ~= '#' then
      local v = tonumber(all[i + 1])
      if v and v < 0 then tombs[#tombs + 1] = { all[i], -v } end
    end
  end
  table.sort(tombs, function(a, b) return a[2] < b[2] end)
  local keep = math.floor(limit / 2)
  local tf = to_num(redis.call('HGET', fansv, '#tf'), 0)
  local dropped = 0
  for i = 1, #tombs - keep do
    redis.call('HDEL', fansv, tombs[i][1])
    if tombs[i][2] > tf then tf = tombs[i][2] end
    dropped = dropped + 1
  end
  redis.call('HSET', fansv, '#tf', num_str(tf), '#t', num_str(#tombs - dropped))
end

-- Applies one versioned transition of fan `from` to the window (loaded or not).
-- `from_step`: a live step (not a shard row); only a step can be the late twin of
-- a pruned tombstone, shard rows are older than what they are merged with.
-- Returns 'APPLIED' | 'DUPLICATE' | 'STALE' | 'IGNORED' (below the floor) | 'INVALIDATED'.
local function fans_apply(fans, fansv, from, action, version, time, limit, tomb_limit, from_step)
  local rec = to_num(redis.call('HGET', fansv, from), nil)
  if rec then
    local known = math.abs(rec)
    if version == known then return 'DUPLICATE' end
    if version < known then return 'STALE' end
    if rec < 0 then redis.call('HINCRBY', fansv, '#t', -1) end
  end
  local fs, fid = fans_floor(fansv)
  local in_window = not fs or above(time, tonumber(from), fs, fid)
  if from_step and not rec and action == 'f' and in_window and version <= to_num(redis.call('HGET', fansv, '#tf'), 0) then
    -- maybe the late twin of an unfollow whose tombstone was pruned: unknowable here
    redis.call('DEL', fans, fansv)
    return 'INVALIDATED'
  end
  redis.call('ZREM', fans, from)
  if action == 'f' then
    if not in_window then
      redis.call('HDEL', fansv, from)
      return 'IGNORED'
    end
    redis.call('ZADD', fans, time, from)
    redis.call('HSET', fansv, from, num_str(version))
    trim(fans, fansv, limit)
  else
    redis.call('HSET', fansv, from, '-' .. num_str(version))
    redis.call('HINCRBY', fansv, '#t', 1)
    prune_tombstones(fansv, tomb_limit)
  end
  return 'APPLIED'
end
