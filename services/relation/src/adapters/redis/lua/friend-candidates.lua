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
local out = { 'OK', state }
for i = 1, #all, 2 do
  local flag = 0
  if state ~= 'COLD' and redis.call('ZSCORE', fans, all[i]) then
    flag = 1
  elseif state ~= 'COMPLETE' then
    flag = 2
  end
  if flag > 0 then
    out[#out + 1] = all[i]; out[#out + 1] = all[i + 1]; out[#out + 1] = flag
  end
end
return out
