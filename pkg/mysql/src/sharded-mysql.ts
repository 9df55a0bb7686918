/**
 * Connection pools over the physical shards, and the routing from an id to
 * its shard: id → virtual shard (hash) → physical shard (shard map) → pool.
 */
import mysql, { type Connection, type Pool, type PoolConnection, type PoolOptions } from "mysql2/promise";
import type { Logger } from "@rs/logger";
import { boundedPool } from "./bounded-pool.js";
import { formatShardMap, parseShardMap } from "./shard-map.js";
import { virtualShardOf } from "./virtual-shard.js";

/** How long opening a TCP connection and the MySQL handshake may take. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Longest wait for a pooled connection (including opening one) before the call fails. */
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 5_000;
/**
 * Longest one statement (or BEGIN/COMMIT/ROLLBACK) may take, from the call,
 * before it fails and its connection is destroyed. Above the persister's
 * innodb_lock_wait_timeout (5 s), so a lock wait fails as a lock wait first.
 */
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;
/** Callers waiting for a pooled connection, per pool, before new ones fail fast ("Queue limit reached"). */
export const DEFAULT_QUEUE_LIMIT = 1_000;
/** Idle pooled connections are closed after this long (down to none). */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** TCP keep-alive probes start after this much idle time, so dead peers are noticed. */
const KEEP_ALIVE_INITIAL_DELAY_MS = 10_000;
/** Every session runs in UTC, so NOW()/CURRENT_TIMESTAMP agree with the driver's `timezone: "Z"`. */
const SESSION_TIME_ZONE_SQL = "SET time_zone = '+00:00'";

export interface ShardedMysqlOptions {
  /** DSNs of the physical shards, `mysql://user:password@host:port/database`; index = physical shard. */
  readonly dsns: readonly string[];
  /** Number of virtual shards; fixed for the life of the data. */
  readonly virtualShards: number;
  /** A map spec (`0-31=0,32-63=1`) or an already parsed map; default spreads evenly. */
  readonly shardMap?: string | readonly number[];
  /** Connections per physical shard. */
  readonly poolSize: number;
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
  /** See {@link DEFAULT_ACQUIRE_TIMEOUT_MS}. */
  readonly acquireTimeoutMs?: number;
  /** See {@link DEFAULT_QUERY_TIMEOUT_MS}. */
  readonly queryTimeoutMs?: number;
  readonly queueLimit?: number;
  readonly idleTimeoutMs?: number;
}

/** The MYSQL_* settings of `@rs/config`'s `mysqlSettings`, as parsed. */
export interface MysqlSettings {
  readonly MYSQL_SHARD_DSNS: readonly string[];
  readonly MYSQL_VIRTUAL_SHARDS: number;
  readonly MYSQL_SHARD_MAP?: string | undefined;
  readonly MYSQL_POOL_SIZE: number;
  readonly MYSQL_CONNECT_TIMEOUT_MS?: number;
  readonly MYSQL_ACQUIRE_TIMEOUT_MS?: number;
  readonly MYSQL_QUERY_TIMEOUT_MS?: number;
}

/** `host:port/database` of a DSN: safe to log and to put in errors (no user or password). */
export function describeDsn(dsn: string): string {
  try {
    const u = new URL(dsn);
    return `${u.hostname}:${u.port || "3306"}${u.pathname}`;
  } catch {
    return "(unparsable DSN)";
  }
}

function connectionOptions(dsn: string, connectTimeoutMs: number): PoolOptions {
  return {
    uri: dsn,
    connectTimeout: connectTimeoutMs,
    // BIGINT as a JS number whenever it is a safe integer (all our ids and
    // counts); a larger value arrives as a string instead of silently rounded.
    supportBigNumbers: true,
    bigNumberStrings: false,
    // SUM() and other DECIMAL results as numbers, not strings.
    decimalNumbers: true,
    timezone: "Z",
    // No stack captured on every statement for the case it fails (mysql2's
    // "long stack traces": 3-6 % of a query-bound process's CPU in profiles);
    // a failed statement still carries MySQL's error, and its callers add the
    // shard and what they were doing.
    trace: false,
    enableKeepAlive: true,
    keepAliveInitialDelay: KEEP_ALIVE_INITIAL_DELAY_MS,
  };
}

/**
 * Sharded MySQL: one pool per physical shard and the id → shard routing.
 *
 * All methods that take `physical` expect an index into the DSN list
 * (0 ≤ physical < {@link physicalCount}). Every call through a pool is
 * bounded (bounded-pool.ts): waiting for a connection by the acquire timeout,
 * each statement by the query timeout, opening a connection by the connect
 * timeout.
 */
export class ShardedMysql {
  readonly physicalCount: number;
  readonly virtualShards: number;
  /** index = virtual shard, value = physical shard. */
  readonly shardMap: readonly number[];
  private readonly pools: Pool[];
  private readonly descriptions: string[];
  private readonly dsns: readonly string[];
  private readonly connectTimeoutMs: number;
  private readonly logger: Logger;
  private closing: Promise<void> | undefined;

  private constructor(opts: ShardedMysqlOptions) {
    if (opts.dsns.length === 0) throw new RangeError("at least one shard DSN is required");
    if (!Number.isSafeInteger(opts.poolSize) || opts.poolSize < 1) throw new RangeError(`poolSize must be a positive integer, got ${opts.poolSize}`);
    this.dsns = [...opts.dsns];
    this.physicalCount = opts.dsns.length;
    this.virtualShards = opts.virtualShards;
    this.shardMap =
      typeof opts.shardMap === "object"
        ? parseShardMap(formatShardMap(opts.shardMap), opts.virtualShards, this.physicalCount)
        : parseShardMap(opts.shardMap, opts.virtualShards, this.physicalCount);
    this.logger = opts.logger;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.descriptions = opts.dsns.map((dsn, i) => `shard ${i} (${describeDsn(dsn)})`);
    const deadlines = {
      acquireTimeoutMs: opts.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS,
      queryTimeoutMs: opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
    };
    this.pools = opts.dsns.map((dsn, i) => {
      const pool = mysql.createPool({
        ...connectionOptions(dsn, this.connectTimeoutMs),
        connectionLimit: opts.poolSize,
        maxIdle: opts.poolSize,
        idleTimeout: opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
        waitForConnections: true,
        queueLimit: opts.queueLimit ?? DEFAULT_QUEUE_LIMIT,
      });
      // Runs on the new connection before whoever asked for it gets it
      // (commands on one connection are sequential).
      pool.on("connection", (conn) => {
        (conn as unknown as { query(sql: string, cb: (err: Error | null) => void): void }).query(SESSION_TIME_ZONE_SQL, (err) => {
          if (err) this.logger.warn({ err }, "setting the session time zone failed");
        });
      });
      return boundedPool(pool, { ...deadlines, describe: this.descriptions[i]! });
    });
    const unused = this.descriptions.filter((_, p) => !this.shardMap.includes(p));
    if (unused.length > 0) this.logger.warn({ unused }, "physical shards that hold no virtual shard");
    this.logger.info(
      { shards: this.descriptions, virtualShards: this.virtualShards, shardMap: formatShardMap(this.shardMap), poolSize: opts.poolSize, ...deadlines },
      "mysql shard pools created",
    );
  }

  /** Creates the pools (connections open lazily) and validates the shard map. */
  static create(opts: ShardedMysqlOptions): ShardedMysql {
    return new ShardedMysql(opts);
  }

  /** {@link create} from a process's validated `mysqlSettings`. */
  static fromConfig(cfg: MysqlSettings, logger: Logger): ShardedMysql {
    return new ShardedMysql({
      dsns: cfg.MYSQL_SHARD_DSNS,
      virtualShards: cfg.MYSQL_VIRTUAL_SHARDS,
      shardMap: cfg.MYSQL_SHARD_MAP,
      poolSize: cfg.MYSQL_POOL_SIZE,
      connectTimeoutMs: cfg.MYSQL_CONNECT_TIMEOUT_MS,
      acquireTimeoutMs: cfg.MYSQL_ACQUIRE_TIMEOUT_MS,
      queryTimeoutMs: cfg.MYSQL_QUERY_TIMEOUT_MS,
      logger,
    });
  }

  /** The virtual shard of `id`. */
  virtualOf(id: number): number {
    return virtualShardOf(id, this.virtualShards);
  }

  /** The physical shard (index into the DSNs) that holds `id`'s rows. */
  physicalOf(id: number): number {
    return this.shardMap[virtualShardOf(id, this.virtualShards)]!;
  }

  /** The pool of one physical shard. */
  pool(physical: number): Pool {
    const pool = this.pools[physical];
    if (!pool) throw new RangeError(`no physical shard ${physical} (there are ${this.physicalCount})`);
    return pool;
  }

  /** The pool of the shard that holds `id`'s rows. */
  poolFor(id: number): Pool {
    return this.pools[this.physicalOf(id)]!;
  }

  /** `shard <n> (host:port/database)`, for logs and errors; never the credentials. */
  describe(physical: number): string {
    this.pool(physical);
    return this.descriptions[physical]!;
  }

  /** Groups items by the physical shard of `idOf(item)`, keeping their order within a shard. */
  groupByShard<T>(items: Iterable<T>, idOf: (item: T) => number): Map<number, T[]> {
    const groups = new Map<number, T[]>();
    for (const item of items) {
      const physical = this.physicalOf(idOf(item));
      const group = groups.get(physical);
      if (group) group.push(item);
      else groups.set(physical, [item]);
    }
    return groups;
  }

  /**
   * Runs `fn` in a transaction on one physical shard: commits when it
   * resolves, rolls back when it throws (and rethrows). The connection goes
   * back to the pool either way, or is destroyed when its state is unknown
   * (rollback failed), so a broken session is never reused.
   */
  async transaction<T>(physical: number, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await this.pool(physical).getConnection();
    let reusable = true;
    try {
      try {
        await conn.beginTransaction();
      } catch (err) {
        reusable = false;
        throw err;
      }
      try {
        const result = await fn(conn);
        await conn.commit();
        return result;
      } catch (err) {
        try {
          await conn.rollback();
        } catch (rollbackErr) {
          reusable = false;
          this.logger.warn({ err: rollbackErr, shard: this.descriptions[physical] }, "rollback failed; dropping the connection");
        }
        throw err;
      }
    } finally {
      if (reusable) conn.release();
      else conn.destroy();
    }
  }

  /** Runs `fn` on every physical shard at once; resolves with the results in shard order. */
  forEachShard<T>(fn: (pool: Pool, physical: number) => Promise<T>): Promise<T[]> {
    return Promise.all(this.pools.map((pool, physical) => fn(pool, physical)));
  }

  /** Resolves when every shard answers `SELECT 1`; rejects naming each shard that did not (for /readyz). */
  async ping(): Promise<void> {
    const results = await Promise.allSettled(this.pools.map((pool) => pool.query("SELECT 1")));
    const failed = results.flatMap((r, i) =>
      r.status === "rejected" ? [`${this.descriptions[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : [],
    );
    if (failed.length > 0) throw new Error(`mysql unreachable: ${failed.join("; ")}`);
  }

  /**
   * A dedicated connection to one shard, outside the pool, with the same
   * settings (migrations use it with `multipleStatements`). The caller ends it.
   * Only opening it is bounded (connect timeout): its statements are not
   * (migrations run DDL that may legitimately take long, under a lock with
   * its own timeout).
   */
  async connect(physical: number, extra: { multipleStatements?: boolean } = {}): Promise<Connection> {
    this.pool(physical);
    const conn = await mysql.createConnection({ ...connectionOptions(this.dsns[physical]!, this.connectTimeoutMs), ...extra });
    await conn.query(SESSION_TIME_ZONE_SQL);
    return conn;
  }

  /** Ends every pool (waits for checked-out connections to be released). Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= Promise.all(this.pools.map((p) => p.end())).then(() => {
      this.logger.info("mysql shard pools closed");
    });
    return this.closing;
  }
}
