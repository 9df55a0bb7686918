-- Relation edges and the per-user counts beside them (docs/adr/0007).
-- Applied to every shard database. A row lives in the shard of the user it is
-- keyed by: `follows` and `following_counts` by the follower, `fans` and
-- `follower_counts` by the followee, so the persister changes an edge and the
-- count it moves in one local transaction.
--
-- Times are unix milliseconds (BIGINT): the numbers Redis sorts by and cursors
-- carry, with no time-zone conversion anywhere.
-- Versions come from the follower's counter (monotonic per follower): a write
-- applies only when its version is newer than the row's, so replays and
-- reordered events are harmless:
--   INSERT ... ON DUPLICATE KEY UPDATE
--     created_at = IF(VALUES(version) > version AND status = 0 AND VALUES(status) = 1, VALUES(created_at), created_at),
--     source     = IF(VALUES(version) > version AND status = 0 AND VALUES(status) = 1, VALUES(source), source),
--     status     = IF(VALUES(version) > version, VALUES(status), status),
--     updated_at = IF(VALUES(version) > version, VALUES(updated_at), updated_at),
--     version    = GREATEST(version, VALUES(version))   -- last: assignments see earlier ones
-- Lists are keyset-paged newest first over the list index, never by OFFSET:
--   WHERE from_user_id = ? AND status = 1
--     AND (created_at < ? OR (created_at = ? AND to_user_id < ?))
--   ORDER BY created_at DESC, to_user_id DESC LIMIT ?

-- Who a user follows. Clustered by the follower, so loading one user's list
-- (following:{A} in Redis) is one range read.
CREATE TABLE follows (
  id           BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT COMMENT 'shard-local surrogate; the edge is (from_user_id, to_user_id)',
  from_user_id BIGINT UNSIGNED  NOT NULL,
  to_user_id   BIGINT UNSIGNED  NOT NULL,
  source       INT              NOT NULL DEFAULT 0 COMMENT 'app surface of the follow',
  status       TINYINT UNSIGNED NOT NULL COMMENT '1 following, 0 unfollowed (logical delete)',
  created_at   BIGINT UNSIGNED  NOT NULL COMMENT 'unix ms the current follow began; list order',
  version      BIGINT UNSIGNED  NOT NULL COMMENT 'version of the last transition applied',
  updated_at   BIGINT UNSIGNED  NOT NULL COMMENT 'unix ms of the last transition applied',
  PRIMARY KEY (from_user_id, to_user_id),
  UNIQUE KEY uk_follows_id (id),
  KEY idx_follows_list (from_user_id, status, created_at, to_user_id),
  CONSTRAINT ck_follows_status CHECK (status IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The same edges seen from the followee: who follows a user.
CREATE TABLE fans (
  id           BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT COMMENT 'shard-local surrogate; the edge is (to_user_id, from_user_id)',
  to_user_id   BIGINT UNSIGNED  NOT NULL,
  from_user_id BIGINT UNSIGNED  NOT NULL,
  source       INT              NOT NULL DEFAULT 0 COMMENT 'app surface of the follow',
  status       TINYINT UNSIGNED NOT NULL COMMENT '1 following, 0 unfollowed (logical delete)',
  created_at   BIGINT UNSIGNED  NOT NULL COMMENT 'unix ms the current follow began; list order',
  version      BIGINT UNSIGNED  NOT NULL COMMENT 'version (from the follower''s counter) of the last transition applied',
  updated_at   BIGINT UNSIGNED  NOT NULL COMMENT 'unix ms of the last transition applied',
  PRIMARY KEY (to_user_id, from_user_id),
  UNIQUE KEY uk_fans_id (id),
  KEY idx_fans_list (to_user_id, status, created_at, from_user_id),
  CONSTRAINT ck_fans_status CHECK (status IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- How many users a user follows; in the follower's shard, changed in the same
-- transaction as that user's `follows` rows. Two tables rather than one row per
-- user: the two counts of one user change in different transactions (the
-- user's own follows, everyone else's follows of them), and one row would make
-- them wait on one another's lock and still need a version each.
CREATE TABLE following_counts (
  user_id         BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  following_count BIGINT UNSIGNED NOT NULL DEFAULT 0,
  version         BIGINT UNSIGNED NOT NULL COMMENT 'highest transition version of user_id counted (the user''s own counter)',
  updated_at      BIGINT UNSIGNED NOT NULL COMMENT 'unix ms'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- How many users follow a user; in the followee's shard, changed in the same
-- transaction as that user's `fans` rows.
CREATE TABLE follower_counts (
  user_id        BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  follower_count BIGINT UNSIGNED NOT NULL DEFAULT 0,
  version        BIGINT UNSIGNED NOT NULL COMMENT 'revision, +1 per committed change (fans have no common counter)',
  updated_at     BIGINT UNSIGNED NOT NULL COMMENT 'unix ms'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
