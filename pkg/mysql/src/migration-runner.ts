/**
 * Applies schema migrations to every physical shard.
 *
 * Per shard, under a MySQL named lock (GET_LOCK, one per database) so that two
 * processes migrating at once take turns instead of both applying a file:
 * create `schema_migrations` if needed, refuse if any applied file's checksum
 * changed, then apply the pending files in order, recording each after it ran.
 *
 * MySQL commits DDL implicitly, so a file is not atomic: if its third
 * statement fails, the first two stay applied and the file is not recorded.
 * Keep one DDL statement per file, or write statements that can run twice
 * (`CREATE TABLE IF NOT EXISTS`, `ADD COLUMN IF NOT EXISTS` in MariaDB).
 */
import mysql, { type Connection, type RowDataPacket } from "mysql2/promise";
import type { Logger } from "@rs/logger";
import { loadMigrations, type MigrationDir, type MigrationFile } from "./migration-files.js";
import type { ShardedMysql } from "./sharded-mysql.js";

/** The table, in every shard database, that records applied migrations. */
export const MIGRATIONS_TABLE = "schema_migrations";
/** How long a migrator waits for another one to finish on the same database. */
export const MIGRATION_LOCK_TIMEOUT_SECONDS = 300;
const LOCK_NAME_PREFIX = "rs_migrate:";
/** MySQL and MariaDB limit GET_LOCK names to 64 characters. */
const MAX_LOCK_NAME_LENGTH = 64;
/** A file holding only comments sends an empty query. */
const ER_EMPTY_QUERY = 1065;

/** What one shard got. */
export interface ShardMigrationResult {
  readonly physical: number;
  /** `shard <n> (host:port/database)`. */
  readonly shard: string;
  /** Names applied by this run, in order. */
  readonly applied: readonly string[];
  /** How many of the given files were already applied. */
  readonly alreadyApplied: number;
}

export interface MigrationReport {
  readonly shards: readonly ShardMigrationResult[];
}

/** An applied migration file was edited afterwards: nothing was applied to that shard. */
export class MigrationChecksumError extends Error {
  constructor(
    readonly shard: string,
    readonly changed: readonly { name: string; recorded: string; current: string }[],
  ) {
    super(
      `${shard}: applied migrations were changed afterwards (add a new migration instead of editing one): ` +
        changed.map((c) => `${c.name} (recorded sha256 ${c.recorded.slice(0, 12)}…, file now ${c.current.slice(0, 12)}…)`).join(", "),
    );
    this.name = "MigrationChecksumError";
  }
}

/** A migration's SQL failed on a shard; earlier files stay applied and recorded. */
export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MigrationError";
  }
}

/**
 * The named lock of one database. Lock names are server-wide, so the database
 * is part of it; a name cut to 64 characters at worst makes two databases
 * take turns.
 */
export function migrationLockName(database: string): string {
  const name = LOCK_NAME_PREFIX + database;
  return name.length <= MAX_LOCK_NAME_LENGTH ? name : name.slice(0, MAX_LOCK_NAME_LENGTH);
}

async function rows<T>(conn: Connection, sql: string, params: unknown[] = []): Promise<T[]> {
  const [result] = await conn.query<RowDataPacket[]>(sql, params);
  return result as unknown as T[];
}

const versionOf = (name: string): number => Number(name.slice(name.indexOf("/") + 1, name.indexOf("/") + 5));
const dirOf = (name: string): string => name.slice(0, name.indexOf("/"));

async function applyPending(
  conn: Connection,
  table: string,
  shard: string,
  files: readonly MigrationFile[],
  dirNames: ReadonlySet<string>,
  logger: Logger,
): Promise<{ applied: string[]; alreadyApplied: number }> {
  const recorded = new Map((await rows<{ name: string; checksum: string }>(conn, `SELECT name, checksum FROM ${table}`)).map((r) => [r.name, r.checksum]));
  const changed = files.flatMap((f) => {
    const was = recorded.get(f.name);
    return was !== undefined && was !== f.checksum ? [{ name: f.name, recorded: was, current: f.checksum }] : [];
  });
  if (changed.length > 0) throw new MigrationChecksumError(shard, changed);

  const known = new Set(files.map((f) => f.name));
  const missing = [...recorded.keys()].filter((n) => dirNames.has(dirOf(n)) && !known.has(n));
  if (missing.length > 0) logger.warn({ shard, missing }, "applied migrations whose files are gone");

  const pending = files.filter((f) => !recorded.has(f.name));
  const applied: string[] = [];
  for (const f of pending) {
    const later = [...recorded.keys()].filter((n) => dirOf(n) === dirOf(f.name) && versionOf(n) > f.version);
    if (later.length > 0) logger.warn({ shard, migration: f.name, later }, "applying a migration numbered before ones already applied");
    const t0 = Date.now();
    try {
      await conn.query(f.sql);
    } catch (err) {
      if ((err as { errno?: unknown }).errno !== ER_EMPTY_QUERY) {
        throw new MigrationError(`${shard}: ${f.name} failed: ${(err as Error).message}`, { cause: err });
      }
    }
    await conn.query(`INSERT INTO ${table} (name, checksum) VALUES (?, ?)`, [f.name, f.checksum]);
    recorded.set(f.name, f.checksum);
    applied.push(f.name);
    logger.info({ shard, migration: f.name, ms: Date.now() - t0 }, "migration applied");
  }
  return { applied, alreadyApplied: files.length - pending.length };
}

async function migrateShard(
  sharded: ShardedMysql,
  physical: number,
  files: readonly MigrationFile[],
  dirNames: ReadonlySet<string>,
  logger: Logger,
): Promise<ShardMigrationResult> {
  const shard = sharded.describe(physical);
  const conn = await sharded.connect(physical, { multipleStatements: true });
  try {
    const [current] = await rows<{ db: string | null }>(conn, "SELECT DATABASE() AS db");
    const db = current?.db;
    if (!db) throw new MigrationError(`${shard}: the DSN names no database`);
    const lock = migrationLockName(db);
    // Qualified, so a migration that runs USE cannot redirect the bookkeeping.
    const table = `${mysql.escapeId(db)}.${mysql.escapeId(MIGRATIONS_TABLE)}`;

    const [free] = await rows<{ got: number | null }>(conn, "SELECT GET_LOCK(?, 0) AS got", [lock]);
    if (free?.got !== 1) {
      logger.info({ shard, lock }, "another migration is running on this shard; waiting for it");
      const [got] = await rows<{ got: number | null }>(conn, "SELECT GET_LOCK(?, ?) AS got", [lock, MIGRATION_LOCK_TIMEOUT_SECONDS]);
      if (got?.got !== 1) {
        throw new MigrationError(`${shard}: another migration held lock "${lock}" for more than ${MIGRATION_LOCK_TIMEOUT_SECONDS}s`);
      }
    }
    try {
      await conn.query(
        `CREATE TABLE IF NOT EXISTS ${table} (
           name VARCHAR(255) NOT NULL PRIMARY KEY,
           checksum CHAR(64) NOT NULL,
           applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
         ) ENGINE=InnoDB`,
      );
      const result = await applyPending(conn, table, shard, files, dirNames, logger);
      return { physical, shard, ...result };
    } finally {
      // Ending the session would release it too; this lets a waiter in sooner.
      await conn.query("SELECT RELEASE_LOCK(?)", [lock]).catch(() => undefined);
    }
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/**
 * Applies the `NNNN_description.sql` files of `dirs` (each directory's files in
 * number order, directories in the order given) to every physical shard of
 * `sharded`, one shard after the other. Idempotent: applied files are skipped.
 *
 * @throws MigrationFileError for a bad file name or layout (before touching any shard),
 *   MigrationChecksumError if an applied file changed, MigrationError if SQL fails
 *   or the lock cannot be had.
 */
export async function migrate(sharded: ShardedMysql, dirs: readonly MigrationDir[], logger: Logger): Promise<MigrationReport> {
  const files = await loadMigrations(dirs);
  const dirNames = new Set(dirs.map((d) => d.name));
  const shards: ShardMigrationResult[] = [];
  for (let physical = 0; physical < sharded.physicalCount; physical++) {
    shards.push(await migrateShard(sharded, physical, files, dirNames, logger));
  }
  const applied = shards.reduce((n, s) => n + s.applied.length, 0);
  logger.info({ files: files.length, shards: shards.length, applied }, applied > 0 ? "migrations applied" : "schema up to date");
  return { shards };
}
