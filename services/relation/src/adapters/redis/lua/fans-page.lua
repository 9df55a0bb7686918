-- KEYS: fans:{B}, fansv:{B}
-- ARGV: hasCursor 0|1, cursorTimeMs, cursorId, want
-- Returns {'NOT_LOADED'} | {'OK', 1 | floor, cachedCount, id, score, ...}:
-- 1 when the window holds every fan (complete), else its floor 'score:id' (the
-- newest entry it does not know): a page that runs out of window continues in
-- the shard from the same cursor.
local fans, fansv = KEYS[1], KEYS[2]
if fans_state(fans, fansv) ~= '1' then return { 'NOT_LOADED' } end
local fs, fid, f = fans_floor(fansv)
local has_cursor = ARGV[1] == '1'
local header = { 'OK', f or 1, redis.call('ZCARD', fans) - 1 }
-- A cursor at or below the floor (a page deep in a big account's list): every
-- entry of the window is above it, so the page is the shard's alone, without
-- a range read that would walk the whole window from its top.
if has_cursor and fs and not above(tonumber(ARGV[2]), tonumber(ARGV[3]), fs, fid) then return header end
return page_desc(fans, has_cursor, ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), header)
