/**
 * One transaction on one physical shard for the persister and the reconciler:
 * READ COMMITTED (no gap locks, so writers of neighbouring keys, e.g. many fans
 * of one popular user, do not deadlock on each other's gaps) and retried as a
 * whole when MySQL picks it as a deadlock victim, a lock wait times out, or a
 * row it saw absent was inserted by someone else meanwhile (a duplicate key on
 * a plain INSERT: the transaction read stale state and must decide again).
 */
import type { Logger } from "@rs/logger";
import type { PoolConnection, ShardedMysql } from "@rs/mysql";

/** Transactions retried per shard before the batch fails (and is delivered again). */
export const DEFAULT_TXN_ATTEMPTS = 5;
/** A lock held longer than this by someone else fails the statement (then the transaction is retried). */
export const DEFAULT_LOCK_WAIT_TIMEOUT_S = 5;
const RETRY_BASE_MS = 10;
const RETRY_MAX_MS = 500;

/** MySQL error numbers after which the whole transaction is run again. */
const RETRYABLE_ERRNO = new Set([
  1213, // ER_LOCK_DEADLOCK
  1205, // ER_LOCK_WAIT_TIMEOUT
  1062, // ER_DUP_ENTRY: a row read as absent was inserted concurrently
]);

export interface ShardTransactionOptions {
  readonly attempts?: number;
  readonly lockWaitTimeoutS?: number;
  readonly logger: Logger;
  /** Called before each retry (metrics). */
  readonly onRetry?: (errno: number) => void;
}

function errnoOf(err: unknown): number | undefined {
  const n = (err as { errno?: unknown } | null)?.errno;
  return typeof n === "number" ? n : undefined;
}

/** Connections already switched to READ COMMITTED (session settings last as long as the connection). */
const prepared = new WeakSet<object>();

async function prepare(conn: PoolConnection, lockWaitTimeoutS: number): Promise<void> {
  // The underlying connection object is stable across pool check-outs.
  const key = (conn as unknown as { connection?: object }).connection ?? conn;
  if (prepared.has(key)) return;
  await conn.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  await conn.query("SET SESSION innodb_lock_wait_timeout = ?", [lockWaitTimeoutS]);
  prepared.add(key);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `fn` in a READ COMMITTED transaction on `physical`, committing when it
 * resolves; runs it again from the start (fresh reads) on a retryable error.
 * `fn` must therefore have no effects outside the transaction.
 */
export async function inShardTransaction<T>(
  mysql: ShardedMysql,
  physical: number,
  fn: (conn: PoolConnection) => Promise<T>,
  opts: ShardTransactionOptions,
): Promise<T> {
  const attempts = opts.attempts ?? DEFAULT_TXN_ATTEMPTS;
  const lockWait = opts.lockWaitTimeoutS ?? DEFAULT_LOCK_WAIT_TIMEOUT_S;
  for (let attempt = 1; ; attempt++) {
    const conn = await mysql.pool(physical).getConnection();
    let reusable = true;
    try {
      await prepare(conn, lockWait);
      await conn.beginTransaction();
      try {
        const result = await fn(conn);
        await conn.commit();
        return result;
      } catch (err) {
        await conn.rollback().catch(() => {
          reusable = false;
        });
        throw err;
      }
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === undefined || !RETRYABLE_ERRNO.has(errno) || attempt >= attempts) throw err;
      opts.onRetry?.(errno);
      opts.logger.debug({ errno, attempt, shard: mysql.describe(physical) }, "shard transaction retried");
      await sleep(Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
    } finally {
      if (reusable) conn.release();
      else conn.destroy();
    }
  }
}
