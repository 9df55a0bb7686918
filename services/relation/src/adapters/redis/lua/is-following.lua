-- KEYS: following:{A}, following-ix:{A}
-- ARGV: followee ids
-- Returns one entry per id after a first one, null or 0 when not loaded (or
-- partly evicted): a plain list answers ZMSCORE with the sentinel (scores, null
-- = not followed), an indexed one SMISMEMBER with the index's sentinel (1/0;
-- one binary search per id in the intset instead of a scan of the listpack).
local following, ix = KEYS[1], KEYS[2]
local s = redis.call('ZSCORE', following, SENTINEL)
if not s then return { false } end
if tonumber(s) == INDEXED then return redis.call('SMISMEMBER', ix, IX_SENTINEL, unpack(ARGV)) end
return redis.call('ZMSCORE', following, SENTINEL, unpack(ARGV))
