-- The count store (docs/adr/0011): generic counters keyed by
-- (entity_type, entity_id, name), e.g. ('user', 42, 'following'). Applied to
-- every shard database; a counter lives in the shard of its entity id, so all
-- counters of one entity are one range read of the primary key.
--
-- Values are absolute, each with the version it was published with
-- (count.v1.CountChanged); the count-consumer keeps a value only when its
-- version is newer than the stored one, so replays and reordering are harmless:
--   INSERT ... ON DUPLICATE KEY UPDATE
--     value      = IF(VALUES(version) > version, VALUES(value), value),
--     updated_at = IF(VALUES(version) > version, VALUES(updated_at), updated_at),
--     version    = GREATEST(version, VALUES(version))   -- last: assignments see earlier ones
CREATE TABLE counters (
  entity_id   BIGINT UNSIGNED NOT NULL,
  entity_type VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'e.g. user; [a-z][a-z0-9_]*',
  name        VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'e.g. following, follower; [a-z][a-z0-9_]*',
  value       BIGINT           NOT NULL DEFAULT 0,
  version     BIGINT UNSIGNED  NOT NULL COMMENT 'version of the value (from its publisher), monotonic per counter',
  updated_at  BIGINT UNSIGNED  NOT NULL COMMENT 'unix ms of the last applied change',
  PRIMARY KEY (entity_id, entity_type, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
