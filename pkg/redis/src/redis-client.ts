import { Cluster, Redis } from "ioredis";
import type { Logger } from "@rs/logger";

/** Longest wait for the TCP connect + handshake before the attempt counts as failed. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
/**
 * Longest wait for a reply on a live connection. Without it a Redis that
 * accepts bytes but never answers (paused, swapping, half-open TCP) would hang
 * callers exactly like an offline queue would.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
/** First reconnect delay; doubles per failed attempt up to the maximum. */
export const RECONNECT_BASE_DELAY_MS = 50;
/** Upper bound of the reconnect delay, so recovery after a Redis restart is quick. */
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 2_000;
/** How often a Cluster client re-reads the cluster's topology (CLUSTER SLOTS) by itself. */
export const CLUSTER_TOPOLOGY_REFRESH_MS = 5_000;
/** How long `closeRedis` waits for QUIT before cutting the connection. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 1_000;

export interface RedisClientOptions {
  readonly logger: Logger;
  /** Names the connection in logs and in `CLIENT LIST` (CLIENT SETNAME). */
  readonly name: string;
  readonly connectTimeoutMs?: number;
  readonly commandTimeoutMs?: number;
  /** Send the commands issued in one tick in one write (default true). */
  readonly autoPipelining?: boolean;
  readonly maxReconnectDelayMs?: number;
  /**
   * After this many consecutive failed attempts the client gives up (status
   * `end`). Default: never give up; a long-running service must recover by
   * itself once Redis is back, and `/readyz` reports it as unready meanwhile.
   */
  readonly maxReconnectAttempts?: number;
}

/**
 * Capped exponential backoff with jitter: `base·2^(n-1)` up to `max`, the
 * upper half randomised so a fleet does not reconnect in lockstep.
 * Returns `null` (stop reconnecting) once `maxAttempts` is exceeded.
 */
export function reconnectDelay(attempt: number, maxDelayMs: number, maxAttempts: number): number | null {
  if (attempt > maxAttempts) return null;
  const ceiling = Math.min(maxDelayMs, RECONNECT_BASE_DELAY_MS * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** A client of a single Redis or of a Redis Cluster, as {@link createRedis} returns. */
export type RedisClient = Redis | Cluster;

/** Clients being closed on purpose, so their `end` is not reported as giving up. */
const closing = new WeakSet<RedisClient>();

/** The scheme that selects Redis Cluster: `redis-cluster://[user:password@]host:port,host:port,...`. */
export const REDIS_CLUSTER_SCHEME = "redis-cluster:";

export interface RedisClusterTarget {
  readonly nodes: { host: string; port: number }[];
  readonly username?: string;
  readonly password?: string;
}

/**
 * Parses a cluster setting, `redis-cluster://[user:password@]h1:p1,h2:p2,...`
 * (a few seed nodes are enough; the client discovers the rest). Returns
 * `undefined` for any other URL (a single Redis).
 */
export function parseRedisClusterUrl(url: string): RedisClusterTarget | undefined {
  if (!url.startsWith(`${REDIS_CLUSTER_SCHEME}//`)) return undefined;
  let rest = url.slice(REDIS_CLUSTER_SCHEME.length + 2).replace(/\/+$/, "");
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(":");
    username = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth) || undefined;
    password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) : undefined;
  }
  const nodes = rest.split(",").map((hp) => {
    const m = /^([^:,/]+):(\d{1,5})$/.exec(hp.trim());
    if (!m) throw new RangeError(`redis cluster node must be host:port, got "${hp}"`);
    return { host: m[1]!, port: Number(m[2]) };
  });
  return { nodes, ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/**
 * Creates a Redis client that fails fast while disconnected.
 *
 * - No offline queue: a command issued while the connection is down rejects at
 *   once ("Stream isn't writeable..."), so callers can refuse or degrade
 *   instead of hanging until Redis returns.
 * - Commands in flight when the connection drops are rejected, not resent
 *   after the reconnect (`maxRetriesPerRequest: 0`, no auto-resend): the
 *   caller sees the error, and a non-idempotent script is never run twice
 *   behind its back.
 * - Reconnects forever (unless `maxReconnectAttempts`) with a capped backoff.
 *
 * The connection starts immediately; use {@link waitForRedisReady} at start-up
 * if the first commands must not fail.
 */
export function createRedis(url: string, opts: RedisClientOptions): RedisClient {
  const log = opts.logger.child({ component: "redis", redis: opts.name });
  const maxDelay = opts.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
  const maxAttempts = opts.maxReconnectAttempts ?? Number.POSITIVE_INFINITY;
  const connection = {
    connectionName: opts.name.replace(/[^\w.-]/g, "_"),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
  };
  const cluster = parseRedisClusterUrl(url);
  // On a cluster the same fail-fast options apply to every node connection;
  // the cluster client itself reconnects with the same capped backoff.
  const redis: RedisClient = cluster
    ? new Cluster(cluster.nodes, {
        enableOfflineQueue: false,
        // commands issued together are sent as one pipeline per node (execAcrossSlots relies on it)
        enableAutoPipelining: true,
        // re-read the topology regularly: a master that restarted is dropped from the client's nodes and
        // would otherwise come back only after a MOVED reply (readiness and SCAN walks visit every master)
        slotsRefreshInterval: CLUSTER_TOPOLOGY_REFRESH_MS,
        clusterRetryStrategy: (attempt) => reconnectDelay(attempt, maxDelay, maxAttempts),
        redisOptions: {
          ...connection,
          ...(cluster.username ? { username: cluster.username } : {}),
          ...(cluster.password ? { password: cluster.password } : {}),
        },
      })
    : new Redis(url, {
        ...connection,
        // Commands issued in the same tick go out in one socket write (one
        // syscall and one TCP segment for many callers): measured in
        // docs/benchmarks.md ("Redis auto-pipelining").
        enableAutoPipelining: opts.autoPipelining ?? true,
        retryStrategy: (attempt) => reconnectDelay(attempt, maxDelay, maxAttempts),
      });

  // An outage produces one error per attempt; log the first of each distinct
  // kind loudly and the repeats at debug, so logs stay readable during a long outage.
  let lastError: string | undefined;
  let wasReady = false;
  redis.on("ready", () => {
    log.info({ recovered: lastError !== undefined }, "redis ready");
    lastError = undefined;
    wasReady = true;
  });
  redis.on("error", (err: Error) => {
    if (err.message === lastError) {
      log.debug({ err: err.message }, "redis error (repeated)");
      return;
    }
    lastError = err.message;
    log.warn({ err }, "redis error");
  });
  redis.on("close", () => {
    if (wasReady && !closing.has(redis)) log.warn("redis connection lost");
    wasReady = false;
  });
  redis.on("reconnecting", (delayMs: number) => log.debug({ delayMs }, "redis reconnecting"));
  redis.on("end", () => {
    if (closing.has(redis)) log.info("redis connection closed");
    else log.error({ attempts: maxAttempts }, "redis gave up reconnecting");
  });
  return redis;
}

/**
 * Resolves once the client is ready for commands; rejects after `timeoutMs`
 * with the last connection error. For start-up, where a fail-fast client
 * would otherwise reject the first commands while it is still connecting.
 */
export function waitForRedisReady(redis: RedisClient, timeoutMs: number = DEFAULT_CONNECT_TIMEOUT_MS): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (err: Error) => {
      lastError = err;
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      redis.off("error", onError);
      redis.off("end", onEnd);
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`redis connection ended${lastError ? `: ${lastError.message}` : ""}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`redis not ready after ${timeoutMs}ms${lastError ? `: ${lastError.message}` : ""}`));
    }, timeoutMs);
    redis.on("ready", onReady);
    redis.on("error", onError);
    redis.on("end", onEnd);
  });
}

/**
 * Closes the client: QUIT (so Redis answers what is in flight first), bounded
 * by `timeoutMs`, then a hard disconnect that also cancels any pending reconnect.
 * Never throws; safe to call twice.
 */
export async function closeRedis(redis: RedisClient, timeoutMs: number = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
  if (redis.status === "end") return;
  closing.add(redis);
  if (redis.status === "ready") {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.quit(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("QUIT timed out")), timeoutMs);
        }),
      ]);
    } catch {
      // Falls through to the hard disconnect below; closing must not fail shutdown.
    } finally {
      clearTimeout(timer);
    }
  }
  redis.disconnect(false);
}
