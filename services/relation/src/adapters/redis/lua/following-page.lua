-- KEYS: following:{A}
-- ARGV: hasCursor 0|1, cursorTimeMs, cursorId, want
-- Returns {'NOT_LOADED'} | {'OK', count, id, score, id, score, ...}.
local following = KEYS[1]
if not redis.call('ZSCORE', following, SENTINEL) then return { 'NOT_LOADED' } end
return page_desc(following, ARGV[1] == '1', ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), { 'OK', redis.call('ZCARD', following) - 1 })
