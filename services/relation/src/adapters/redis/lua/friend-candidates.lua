-- KEYS: following:{A}, fans:{A}, fansv:{A}   (one slot: all carry the tag {A})
-- Returns {'NOT_LOADED'} | {'OK', fansState, id, score, flag, ...} over A's follows
-- newest first, where flag 1 = follows A back (in the fans window), 2 = unknown
-- here (window partial or cold). Follows known not to be fans are left out.
-- fansState: 'COMPLETE' | 'PARTIAL' | 'COLD'.
local following, fans, fansv = KEYS[1], KEYS[2], KEYS[3]
if not redis.call('ZSCORE', following, SENTINEL) then return { 'NOT_LOADED' } end
local state = 'COLD'
if fans_state(fans, fansv) == '1' then
  if redis.call('HEXISTS', fansv, '#f') == 1 then state = 'PARTIAL' else state = 'COMPLETE' end
end
local all = page_desc(following, false, '0', 0, redis.call('ZCARD', following))
-- a big window is a listpack (zset-max-listpack-entries covers it), where each ZSCORE
-- scans it: many followees are looked up in one read of the window instead
local window
if state ~= 'COLD' and #all > 16 and redis.call('ZCARD', fans) > BIG_LIST then
  window = {}
  local members = redis.call('ZRANGE', fans, 0, -1)
  for i = 1, #members do window[members[i]] = true end
end
local function in_window(id)
  if window then return window[id] == true end
  return redis.call('ZSCORE', fans, id) ~= false
end
local out = { 'OK', state }
for i = 1, #all, 2 do
  local flag = 0
  if state ~= 'COLD' and in_window(all[i]) then
    flag = 1
  elseif state ~= 'COMPLETE' then
    flag = 2
  end
  if flag > 0 then
    out[#out + 1] = all[i]; out[#out + 1] = all[i + 1]; out[#out + 1] = flag
  end
end
return out
