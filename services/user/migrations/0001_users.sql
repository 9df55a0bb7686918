-- Accounts and the username index (docs/adr/0008). Applied to every shard database.
--
-- `users` lives in the shard of its id (virtual shard = murmur3(id) mod V, as
-- every table keyed by a user). `usernames` lives in the shard of a hash of the
-- username (the first 48 bits of SHA-256 of its UTF-8 bytes, routed like an id),
-- so one username has exactly one home row in the whole suite and its primary key
-- makes it unique across shards.
--
-- Usernames compare byte for byte (utf8mb4_bin): the shard is picked from the
-- bytes, so a case- or accent-insensitive collation could call two names equal
-- in one shard and different across shards.
--
-- Times are unix milliseconds (BIGINT), as in the relation tables. Statements
-- are re-runnable (IF NOT EXISTS): MySQL commits DDL one statement at a time.

CREATE TABLE IF NOT EXISTS users (
  id                     BIGINT UNSIGNED NOT NULL PRIMARY KEY COMMENT '53-bit snowflake from @rs/ids',
  username               VARCHAR(32)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  password_hash          VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'bcrypt, $2b$<cost>$...',
  avatar                 VARCHAR(512) NOT NULL DEFAULT '',
  background_image       VARCHAR(512) NOT NULL DEFAULT '',
  signature              VARCHAR(512) NOT NULL DEFAULT '',
  follow_count           BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'redundant copy of following_count, from count.changed',
  follower_count         BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'redundant copy of follower_count, from count.changed',
  follow_count_version   BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'version of the count.changed event follow_count comes from',
  follower_count_version BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'version of the count.changed event follower_count comes from',
  revision               BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '+1 per change of the row; orders profile cache writes',
  created_at             BIGINT UNSIGNED NOT NULL,
  updated_at             BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- username -> user id. A register claims the name here first (state 0), writes
-- the user in its own shard, then confirms the claim (state 1). Login reads only
-- confirmed claims. A pending claim older than the grace period is an abandoned
-- register and may be taken over by the next one (compare-and-delete on user_id
-- and state), which also makes a late confirmation of the abandoned one fail.
CREATE TABLE IF NOT EXISTS usernames (
  username   VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
  user_id    BIGINT UNSIGNED  NOT NULL,
  state      TINYINT UNSIGNED NOT NULL COMMENT '0 pending (register in progress), 1 confirmed',
  claimed_at BIGINT UNSIGNED  NOT NULL COMMENT 'unix ms of the claim',
  CONSTRAINT ck_usernames_state CHECK (state IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
