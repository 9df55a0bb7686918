-- Writes one profile cache entry unless that would make the cache older.
-- KEYS[1] the entry; ARGV[1] tag (P profile, I invalidation, M missing),
-- ARGV[2] revision of the row the value comes from, ARGV[3] value, ARGV[4] TTL seconds.
-- ARGV[5], ARGV[6] (optional): a pub/sub channel and message announcing the change,
-- published whether or not the entry is written (the change happened either way).
-- A PUBLISH that fails (an ACL user without the channel) does not fail the write:
-- the relation processes then cannot subscribe either, and keep no profiles.
-- Returns 1 if written, 0 if the current entry was kept.
--
--   M never replaces anything: a "no such user" read may predate the insert.
--   P replaces M, older P, and I marks at or below its revision.
--   I replaces M and older P or I (never lowers a mark, never drops a profile as new as itself).
if ARGV[5] then redis.pcall('PUBLISH', ARGV[5], ARGV[6]) end
local current = redis.call('GET', KEYS[1])
local tag = ARGV[1]
if current then
  if tag == 'M' then return 0 end
  local ctag = string.sub(current, 1, 1)
  if ctag == 'P' or ctag == 'I' then
    local crev = tonumber(string.match(current, '^.(%d+)'))
    local rev = tonumber(ARGV[2])
    if crev and rev then
      if ctag == 'P' and crev >= rev then return 0 end
      if ctag == 'I' and (crev > rev or (tag == 'I' and crev == rev)) then return 0 end
    end
  end
end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
return 1
