-- KEYS: following:{A}
-- Returns -1 when not loaded, else how many A follows.
if not redis.call('ZSCORE', KEYS[1], SENTINEL) then return -1 end
return redis.call('ZCARD', KEYS[1]) - 1
