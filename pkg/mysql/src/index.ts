/**
 * Sharded MySQL (mysql2/promise, plain SQL): ids hash to a fixed number of
 * virtual shards, a shard map places each virtual shard on a physical
 * database, and {@link ShardedMysql} holds one pool per physical database.
 * {@link migrate} applies `NNNN_description.sql` files to every shard.
 * See docs/adr/0004-ids-and-sharding.md.
 */
export { virtualShardOf, murmur3Id, fmix32, VIRTUAL_SHARD_HASH_SEED } from "./virtual-shard.js";
export { parseShardMap, defaultShardMap, formatShardMap, shardMapMoves, ShardMapError } from "./shard-map.js";
export {
  ShardedMysql,
  describeDsn,
  DEFAULT_ACQUIRE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_QUERY_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_QUEUE_LIMIT,
  type ShardedMysqlOptions,
  type MysqlSettings,
} from "./sharded-mysql.js";
export { MysqlTimeoutError } from "./bounded-pool.js";
export { loadMigrations, checksumOf, MigrationFileError, type MigrationDir, type MigrationFile } from "./migration-files.js";
export {
  migrate,
  migrationLockName,
  MigrationChecksumError,
  MigrationError,
  MIGRATIONS_TABLE,
  MIGRATION_LOCK_TIMEOUT_SECONDS,
  type MigrationReport,
  type ShardMigrationResult,
} from "./migration-runner.js";
export { VIRTUAL_SHARDS_DEFAULT } from "@rs/config";
export type { Pool, PoolConnection, Connection, RowDataPacket, ResultSetHeader } from "mysql2/promise";
