-- Helpers shared by every relation script (prepended to each script body).
-- Numbers: ids, times and versions stay below 2^53, exact in Lua's doubles;
-- they are written back with %.0f because tostring() would switch to exponent form.

-- Member of following:{A} and fans:{B} that marks a loaded key (score 0, below every
-- real entry). Evicting the key evicts it too, so "cold" and "follows nobody" differ.
local SENTINEL = '#'

-- A list of more than INDEX_MIN follows that Redis keeps listpack-encoded (its
-- zset-max-listpack-entries raised to cover the cap) has a membership index
-- beside it: following-ix:{A}, a set of the followee ids plus IX_SENTINEL (0, never
-- a user id), an intset (8 B per id, binary-searched), since ZSCORE on a big
-- listpack scans it. following:{A} says which: its sentinel's score is 0, or
-- INDEXED. A list of an indexed sentinel whose index is gone (evicted alone) is
-- not loaded: every script treats it as cold, and a load rebuilds both.
-- Smaller lists have none: the second key would cost them ~50 % more memory
-- (docs/adr/0019-compact-following-lists.md).
-- Must match FOLLOWING_INDEX_MIN in relation-keys.ts.
local INDEX_MIN = 128
-- Past Redis's default zset-max-listpack-entries: a list this big is built as a
-- skiplist and copied (load-following.lua), and a fans window this big is read
-- whole rather than probed member by member (friend-candidates.lua).
local BIG_LIST = 128
local INDEXED = -1
local IX_SENTINEL = '0'
-- ZADD/SADD arguments per call: unpack() of thousands would overflow Lua's C stack.
local CHUNK = 500

local function num_str(n)
  return string.format('%.0f', n)
end

local function to_num(v, default)
  if not v then return default end
  return tonumber(v) or default
end

-- Redis's clock in microseconds: the floor of every new version, so versions stay
-- monotonic after the counter is lost (until the year 2255, below 2^53).
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- Pending entry: action|version|timeMs|source|prevTimeMs (domain/relation-transition.ts).
local function decode_pending(v)
  if not v then return nil end
  local a, ver, t, s, p = string.match(v, '^([fu])|(%d+)|(%d+)|(%-?%d+)|(%d+)$')
  if not a then return nil end
  return { action = a, version = tonumber(ver), time = tonumber(t), source = s, prev = tonumber(p) }
end

local function encode_pending(a, ver, t, s, p)
  return a .. '|' .. num_str(ver) .. '|' .. num_str(t) .. '|' .. s .. '|' .. num_str(p)
end

-- Highest version in a pending overlay (0 when empty).
local function pending_max(pending)
  local best = 0
  local vals = redis.call('HVALS', pending)
  for i = 1, #vals do
    local e = decode_pending(vals[i])
    if e and e.version > best then best = e.version end
  end
  return best
end

-- The next version of one user: above the stored counter, never below Redis TIME
-- in microseconds, and, when the counter was lost, above every version still
-- pending (a lost counter may have run ahead of the clock through a load floor).
local function next_version(meta, pending)
  local stored = to_num(redis.call('HGET', meta, 'v'), nil)
  local floor
  if stored then floor = stored + 1 else floor = pending_max(pending) + 1 end
  local v = math.max(floor, now_us())
  redis.call('HSET', meta, 'v', num_str(v))
  return v
end

local function desc(a, b) return a > b end

-- Ids of the members of `key` scored exactly `s`, as numbers, highest first.
local function group_desc(key, s)
  local ms = redis.call('ZRANGEBYSCORE', key, s, s)
  local ids = {}
  for i = 1, #ms do
    local n = tonumber(ms[i])
    if n then ids[#ids + 1] = n end
  end
  table.sort(ids, desc)
  return ids
end

-- Newest-first keyset page of a relation sorted set: order (score desc, id desc,
-- ids compared as numbers like the shards' ORDER BY, not as Redis's bytes),
-- entries strictly after the cursor (cs, cid) when has_cursor, `want` at most,
-- never the sentinel. Appends a flat id, score, id, score, ... of strings to
-- `out` (a new table when nil) and returns it.
-- An entry whose score no neighbour shares (the common case: follows made in
-- different milliseconds) is passed on as Redis read it; a group of equal scores
-- is sorted by id. Each read asks for one entry more than it needs: when that
-- entry's score differs from the last needed one's, no group was cut off at
-- the LIMIT; when it is the same, that last group is read again whole. A read
-- with no entry beyond the ones needed reached the end.
local function page_desc(key, has_cursor, cs, cid, want, out)
  out = out or {}
  local n = 0
  local max = '+inf'
  if has_cursor then
    local ids = group_desc(key, cs)
    for i = 1, #ids do
      if n >= want then break end
      if ids[i] < cid then
        out[#out + 1] = num_str(ids[i]); out[#out + 1] = cs; n = n + 1
      end
    end
    max = '(' .. cs
  end
  while n < want do
    local ask = want - n
    local batch = redis.call('ZREVRANGEBYSCORE', key, max, '(0', 'WITHSCORES', 'LIMIT', 0, ask + 1)
    local len = #batch
    if len == 0 then break end
    local more = len / 2 > ask
    local cut = false
    if more then
      if batch[len] == batch[len - 2] then cut = true else len = len - 2 end
    end
    local i = 1
    local last
    while i <= len and n < want do
      local s = batch[i + 1]
      local j = i + 2
      while j <= len and batch[j + 1] == s do j = j + 2 end
      -- a group of one is never the cut one: that has at least the read's last two entries
      if j == i + 2 then
        out[#out + 1] = batch[i]; out[#out + 1] = s; n = n + 1
      else
        local ids
        if cut and j > len then
          ids = group_desc(key, s)
        else
          ids = {}
          for k = i, j - 2, 2 do
            local id = tonumber(batch[k])
            if id then ids[#ids + 1] = id end
          end
          table.sort(ids, desc)
        end
        for k = 1, #ids do
          if n >= want then break end
          out[#out + 1] = num_str(ids[k]); out[#out + 1] = s; n = n + 1
        end
      end
      last = s
      i = j
    end
    if not more then break end
    max = '(' .. last
  end
  return out
end

-- The state of A's list: nil when cold (or partly evicted), else 'plain' or 'indexed'.
local function following_state(following, ix)
  local s = redis.call('ZSCORE', following, SENTINEL)
  if not s then return nil end
  if tonumber(s) ~= INDEXED then return 'plain' end
  if redis.call('SISMEMBER', ix, IX_SENTINEL) == 1 then return 'indexed' end
  return nil
end

-- Whether the plain list following:{V} (sentinel score `s`) is better read
-- whole than probed for `n` ids. A plain list is a listpack whose ZMSCORE scans
-- it once per id and formats every score found, so from WHOLE_READ_MIN_IDS ids
-- on a list of at most WHOLE_READ_RATIO follows per id (and at most BIG_LIST
-- entries: past that a list without index is a skiplist under Redis's default
-- limits) it is read once instead: 22 against 75 µs of Redis for 100 ids on
-- 20 follows.
local WHOLE_READ_MIN_IDS = 4
local WHOLE_READ_RATIO = 5
local function read_whole(following, s, n)
  if n < WHOLE_READ_MIN_IDS or tonumber(s) == INDEXED then return false end
  local entries = redis.call('ZCARD', following)
  return entries <= BIG_LIST and entries - 1 <= n * WHOLE_READ_RATIO
end

-- Which of `ids` (decimal strings) the list following:{V}, sentinel score `s`,
-- holds, asked per id: an indexed list asks its intset (SMISMEMBER: a binary
-- search per id; nil when the index is gone), a plain one ZMSCORE. A table of
-- booleans in the ids' order.
local function probe_follows(following, ix, ids, s)
  local n = #ids
  local out = {}
  if tonumber(s) == INDEXED then
    local r = redis.call('SMISMEMBER', ix, IX_SENTINEL, unpack(ids))
    if r[1] ~= 1 then return nil end
    for i = 1, n do out[i] = r[i + 1] == 1 end
    return out
  end
  local scores = redis.call('ZMSCORE', following, unpack(ids))
  for i = 1, n do out[i] = scores[i] ~= false end
  return out
end

-- Which of `ids` the list following:{V} holds, as a table of booleans in their
-- order; nil when the list is not loaded (or its index is gone). A small plain
-- list is read into a Lua set (read_whole), any other asked per id.
local function follows_of(following, ix, ids)
  local s = redis.call('ZSCORE', following, SENTINEL)
  if not s then return nil end
  if not read_whole(following, s, #ids) then return probe_follows(following, ix, ids, s) end
  local members = redis.call('ZRANGE', following, 0, -1)
  local set = {}
  for i = 1, #members do set[members[i]] = true end
  local out = {}
  for i = 1, #ids do out[i] = set[ids[i]] == true end
  return out
end

-- Adds `members` (strings) to set `key` in chunks.
local function sadd_all(key, members)
  for i = 1, #members, CHUNK do
    redis.call('SADD', key, unpack(members, i, math.min(i + CHUNK - 1, #members)))
  end
end

-- Builds following-ix:{A} from following:{A}'s members and marks the list indexed.
local function build_index(following, ix)
  redis.call('DEL', ix)
  local members = redis.call('ZRANGE', following, 0, -1)
  for i = 1, #members do
    if members[i] == SENTINEL then members[i] = IX_SENTINEL end
  end
  sadd_all(ix, members)
  redis.call('ZADD', following, INDEXED, SENTINEL)
end

-- Whether a list of `count` follows needs the index: past INDEX_MIN and still a listpack.
local function needs_index(following, count)
  return count > INDEX_MIN and redis.call('OBJECT', 'ENCODING', following) == 'listpack'
end

-- After `to` was added to a loaded list in `state`: index it, or build the index
-- once the list grew past INDEX_MIN.
local function following_added(following, ix, state, to)
  if state == 'indexed' then
    redis.call('SADD', ix, to)
  elseif needs_index(following, redis.call('ZCARD', following) - 1) then
    build_index(following, ix)
  end
end

local function following_removed(ix, state, to)
  if state == 'indexed' then redis.call('SREM', ix, to) end
end

-- Both keys of the list get the same lifetime (PEXPIRE of an absent index does nothing).
local function following_expire(following, ix, ttl)
  redis.call('PEXPIRE', following, ttl)
  redis.call('PEXPIRE', ix, ttl)
end
