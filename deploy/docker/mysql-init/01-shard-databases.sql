-- Runs once, when the MySQL container starts on an empty data volume
-- (/docker-entrypoint-initdb.d), as root.
--
-- The two physical shard databases of the suite, as the local stack creates
-- them (deploy/stack/provision.ts). The application user `rs` itself is created
-- by the image's entrypoint from MYSQL_USER / MYSQL_PASSWORD just before this
-- file runs, so its password comes from the environment (.env) and never from
-- a file in the repository; here it is only granted the shards.
CREATE DATABASE IF NOT EXISTS `rs_shard_0` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `rs_shard_1` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Everything on the shards (the migrate service creates and alters the tables),
-- nothing elsewhere.
GRANT ALL PRIVILEGES ON `rs_shard_0`.* TO 'rs'@'%';
GRANT ALL PRIVILEGES ON `rs_shard_1`.* TO 'rs'@'%';
FLUSH PRIVILEGES;
