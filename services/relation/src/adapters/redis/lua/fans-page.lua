-- KEYS: fans:{B}, fansv:{B}
-- ARGV: hasCursor 0|1, cursorTimeMs, cursorId, want
-- Returns {'NOT_LOADED'} | {'OK', complete 0|1, cachedCount, id, score, ...}.
-- When not complete, the window ends above its floor: a page that runs out of
-- window continues in the shard from the same cursor.
local fans, fansv = KEYS[1], KEYS[2]
if fans_state(fans, fansv) ~= '1' then return { 'NOT_LOADED' } end
local complete = 1
if redis.call('HEXISTS', fansv, '#f') == 1 then complete = 0 end
return page_desc(fans, ARGV[1] == '1', ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), { 'OK', complete, redis.call('ZCARD', fans) - 1 })
