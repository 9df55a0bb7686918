/**
 * Deadlines on every call through a mysql2 pool, so a hung server or network
 * fails calls instead of stalling them forever.
 *
 * mysql2 has a connect timeout, but no bound on waiting for a pooled
 * connection, and its per-query `timeout` starts only when the query reaches
 * the head of the connection's command queue (a query queued behind a hung
 * one never times out) and leaves the connection busy with the hung command.
 * So the bounds here are the caller's:
 *
 * - acquire: `getConnection` (and the acquire inside `query`/`execute`) fails
 *   after `acquireTimeoutMs`; a connection handed over later goes straight back
 *   to the pool;
 * - query: every `query`/`execute`/`beginTransaction`/`commit`/`rollback`
 *   fails after `queryTimeoutMs` from the call, and the connection is destroyed
 *   (its session state and the command still in flight are unknown), which
 *   frees its pool slot and fails whatever was queued on it.
 *
 * Both fail with {@link MysqlTimeoutError}, whose `code` is `ETIMEDOUT` like a
 * network timeout, so callers that treat lost connections as "unavailable"
 * treat these the same way. A statement the server already received may still
 * complete there: callers must keep treating a failed write as "maybe
 * applied", as after any lost connection.
 */
import type { Pool, PoolConnection } from "mysql2/promise";
import { boundByCallDeadline } from "@rs/logger";

export interface PoolDeadlines {
  /** Longest wait for a pooled connection (including opening a new one). */
  readonly acquireTimeoutMs: number;
  /** Longest a statement (or transaction control command) may take from the call. */
  readonly queryTimeoutMs: number;
  /** `shard n (host:port/db)`, for the error message. */
  readonly describe: string;
}

/** A MySQL call that outlived its deadline. */
export class MysqlTimeoutError extends Error {
  /** Same code as a socket timeout: an outage, not a bug. */
  readonly code = "ETIMEDOUT";
  constructor(
    readonly phase: "acquire" | "query",
    readonly timeoutMs: number,
    where: string,
  ) {
    super(phase === "acquire" ? `no connection to ${where} within ${timeoutMs}ms` : `statement on ${where} did not finish within ${timeoutMs}ms`);
    this.name = "MysqlTimeoutError";
  }
}

/** Rejects with `onTimeout()` if `p` has not settled after `ms`; `p`'s own late outcome is then ignored. */
function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  p.catch(() => undefined);
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

type AnyFn = (...args: unknown[]) => Promise<unknown>;

/**
 * Inside a gRPC call with a deadline, every wait ends this long before it (see
 * @rs/logger's call deadline), so the service can still answer UNAVAILABLE.
 */
const CALL_RESERVE_MS = 250;

const STATEMENTS = new Set(["query", "execute"]);
const CONTROL: Readonly<Record<string, string>> = { beginTransaction: "START TRANSACTION", commit: "COMMIT", rollback: "ROLLBACK" };

function boundedConnection(conn: PoolConnection, d: PoolDeadlines): PoolConnection {
  let destroyed = false;
  const bounded = (run: () => Promise<unknown>) => {
    const ms = boundByCallDeadline(d.queryTimeoutMs, CALL_RESERVE_MS);
    return withDeadline(run(), ms, () => {
      if (!destroyed) {
        destroyed = true;
        conn.destroy();
      }
      return new MysqlTimeoutError("query", ms, d.describe);
    });
  };
  return new Proxy(conn, {
    get(target, prop, receiver) {
      if (typeof prop === "string" && STATEMENTS.has(prop)) {
        const fn = Reflect.get(target, prop, target) as AnyFn;
        return (...args: unknown[]) => bounded(() => fn.apply(target, args));
      }
      if (typeof prop === "string" && prop in CONTROL) {
        const sql = CONTROL[prop]!;
        return () => bounded(() => target.query(sql));
      }
      if (prop === "release") return () => (destroyed ? undefined : target.release());
      if (prop === "destroy")
        return () => {
          if (destroyed) return;
          destroyed = true;
          target.destroy();
        };
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? (value as AnyFn).bind(target) : value;
    },
  });
}

/**
 * `pool` with the deadlines of {@link PoolDeadlines} on `getConnection`,
 * `query` and `execute` (the latter two check out a bounded connection, run
 * the statement on it and give it back). Everything else is the pool's own.
 */
export function boundedPool(pool: Pool, d: PoolDeadlines): Pool {
  const acquire = async (): Promise<PoolConnection> => {
    let abandoned = false;
    const ms = boundByCallDeadline(d.acquireTimeoutMs, CALL_RESERVE_MS);
    const pending = pool.getConnection();
    try {
      return boundedConnection(
        await withDeadline(pending, ms, () => {
          abandoned = true;
          return new MysqlTimeoutError("acquire", ms, d.describe);
        }),
        d,
      );
    } finally {
      // handed over after the caller gave up: straight back to the pool
      if (abandoned)
        pending.then(
          (c) => c.release(),
          () => undefined,
        );
    }
  };
  const runOn = async (method: "query" | "execute", args: unknown[]) => {
    const conn = await acquire();
    try {
      return await (conn[method] as AnyFn)(...args);
    } finally {
      conn.release();
    }
  };
  return new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === "getConnection") return acquire;
      if (prop === "query" || prop === "execute") return (...args: unknown[]) => runOn(prop, args);
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? (value as AnyFn).bind(target) : value;
    },
  });
}
