import { Redis } from "ioredis";
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
/** How long `closeRedis` waits for QUIT before cutting the connection. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 1_000;

export interface RedisClientOptions {
  readonly logger: Logger;
  /** Names the connection in logs and in `CLIENT LIST` (CLIENT SETNAME). */
  readonly name: string;
  readonly connectTimeoutMs?: number;
  readonly commandTimeoutMs?: number;
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

/** Clients being closed on purpose, so their `end` is not reported as giving up. */
const closing = new WeakSet<Redis>();

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
export function createRedis(url: string, opts: RedisClientOptions): Redis {
  const log = opts.logger.child({ component: "redis", redis: opts.name });
  const maxDelay = opts.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
  const maxAttempts = opts.maxReconnectAttempts ?? Number.POSITIVE_INFINITY;
  const redis = new Redis(url, {
    connectionName: opts.name.replace(/[^\w.-]/g, "_"),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
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
export function waitForRedisReady(redis: Redis, timeoutMs: number = DEFAULT_CONNECT_TIMEOUT_MS): Promise<void> {
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
export async function closeRedis(redis: Redis, timeoutMs: number = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
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
