-- KEYS: following:{A}, following:{V}, following-ix:{V}
-- (two users' slots: on a single Redis only, see following-reads.ts)
-- ARGV: hasCursor 0|1, cursorTimeMs, cursorId, want
-- A's page as following-page.lua reads it, and whether V follows each listed
-- user, in one round trip. Returns {'NOT_LOADED'} when following:{A} is cold,
-- else {'OK', count, flags, id, score, id, score, ...}, where flags has a '1' or
-- '0' per listed entry, or is false when following:{V} is cold.
local following = KEYS[1]
if not redis.call('ZSCORE', following, SENTINEL) then return { 'NOT_LOADED' } end
local out = page_desc(following, ARGV[1] == '1', ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), { 'OK', redis.call('ZCARD', following) - 1, '' })
local ids = {}
for i = 4, #out, 2 do ids[#ids + 1] = out[i] end
if #ids > 0 then
  local follows = follows_of(KEYS[2], KEYS[3], ids)
  if follows then
    local bits = {}
    for i = 1, #follows do
      if follows[i] then bits[i] = '1' else bits[i] = '0' end
    end
    out[3] = table.concat(bits)
  else
    out[3] = false
  end
end
return out
