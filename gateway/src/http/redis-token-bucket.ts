/**
 * Rate limiting with a token bucket kept in Redis, so every gateway instance
 * draws from the same bucket and a limit holds exactly across instances.
 * Why a hand-written script and not express-rate-limit / rate-limiter-flexible,
 * and what happens when Redis is down: docs/adr/0006-rate-limiting.md.
 */
import { createHash } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Cluster, Redis } from "ioredis";
import { Counter, type Registry } from "prom-client";
import { unavailable } from "@rs/errors";
import type { Logger } from "@rs/logger";
import { defineScript, type RedisScript } from "@rs/redis";
import { metricsRegistry } from "@rs/runtime";

/** Defaults of the settings below; each is documented where it is used. */
export const RATE_LIMIT_DEFAULTS = {
  /** Redis down or slow: let requests through (logged and counted). See ADR 0006. */
  failOpen: true,
  /** Longest wait for Redis before the request is treated as "Redis down"; local Redis answers in well under 1 ms. */
  timeoutMs: 100,
  keyPrefix: "rl:",
  /** At most one "Redis unavailable" log line per this many ms; the metric counts every request. */
  failureLogIntervalMs: 10_000,
  /** Retry-After of a request refused because Redis could not answer (failing closed). */
  unavailableRetryAfterSeconds: 5,
  unavailableMessage: "rate limiter unavailable, try again later",
} as const;

const MS_PER_SECOND = 1000;
/** A bucket left alone this long past full refill is deleted by Redis (a missing bucket is a full one). */
export const BUCKET_IDLE_MARGIN_MS = 1000;
/** IPv6 clients are limited per /64: one subscriber usually holds a whole /64. */
const IPV6_PREFIX_GROUPS = 4;

/**
 * Lua functions of the bucket scripts. `take` refills the bucket at `key` by the
 * time elapsed since its last use (Redis's own clock, `now_ms`, so gateway
 * clocks do not matter), then takes `n` tokens if it holds them. Returns
 * allowed 0/1, tokens left, ms until a request of `n` would pass.
 */
export const TOKEN_BUCKET_LUA_FUNCTIONS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function take(key, capacity, per_second, n, idle_margin_ms, now)
  local per_ms = per_second / 1000
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1])
  local ts = tonumber(state[2])
  if tokens == nil or ts == nil then
    tokens = capacity
    ts = now
  end
  -- A Redis clock that stepped back refills nothing rather than going negative.
  if now > ts then
    tokens = math.min(capacity, tokens + (now - ts) * per_ms)
    ts = now
  end
  local allowed = 0
  if tokens >= n then
    tokens = tokens - n
    allowed = 1
  end
  local wait_ms = 0
  if tokens < n then
    wait_ms = math.ceil((n - tokens) / per_ms)
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(ts))
  redis.call('PEXPIRE', key, math.ceil(capacity / per_ms) + idle_margin_ms)
  return allowed, tokens, wait_ms
end
`;

/**
 * One bucket: ARGV capacity, refill per second, n, idle margin ms.
 * Returns {allowed 0/1, whole tokens left, ms until a request of `n` would pass}.
 * One key per call: works unchanged on Redis Cluster.
 */
const TOKEN_BUCKET_LUA = `${TOKEN_BUCKET_LUA_FUNCTIONS}
local allowed, tokens, wait_ms = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), now_ms())
return { allowed, math.floor(tokens), wait_ms }
`;
/** The script's command name on a client (`@rs/redis` defineScript: EVALSHA, EVAL after NOSCRIPT). */
const TOKEN_BUCKET_SCRIPT = "gatewayTokenBucket";

/** The token bucket script on `redis` (defined once per client; every limiter on it shares it). */
const tokenBucketScript = (redis: Redis | Cluster): RedisScript<[number, number, number]> => defineScript(redis, TOKEN_BUCKET_SCRIPT, TOKEN_BUCKET_LUA, 1);

/** SHA1 of the script, as EVALSHA and SCRIPT EXISTS know it. */
export const TOKEN_BUCKET_SHA = createHash("sha1").update(TOKEN_BUCKET_LUA).digest("hex");

export interface TokenBucketResult {
  readonly allowed: boolean;
  /** Whole tokens left after this call. */
  readonly tokensLeft: number;
  /** 0 when the next request of the same size would pass now, else ms until it would. */
  readonly retryAfterMs: number;
}

export interface TokenBucketOptions {
  /** Largest burst: tokens a full bucket holds. */
  readonly capacity: number;
  /** Sustained rate: tokens added per second. */
  readonly refillPerSecond: number;
  /** Prefix of every bucket key; default {@link RATE_LIMIT_DEFAULTS.keyPrefix}. */
  readonly keyPrefix?: string;
}

/** Token buckets in Redis, one per key, updated atomically by one Lua script. */
export class RedisTokenBucket {
  private readonly prefix: string;
  private readonly script: RedisScript<[number, number, number]>;

  constructor(
    redis: Redis | Cluster,
    readonly options: TokenBucketOptions,
  ) {
    const { capacity, refillPerSecond } = options;
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError("capacity must be a positive integer");
    if (!(refillPerSecond > 0) || !Number.isFinite(refillPerSecond)) throw new RangeError("refillPerSecond must be > 0");
    this.prefix = options.keyPrefix ?? RATE_LIMIT_DEFAULTS.keyPrefix;
    this.script = tokenBucketScript(redis);
  }

  /** Takes `n` tokens from the bucket of `key` if it has them. */
  async take(key: string, n = 1): Promise<TokenBucketResult> {
    if (!Number.isInteger(n) || n <= 0 || n > this.options.capacity) throw new RangeError("n must be an integer in 1..capacity");
    const args = [this.options.capacity, this.options.refillPerSecond, n, BUCKET_IDLE_MARGIN_MS];
    // EVALSHA; the script itself after NOSCRIPT (first use on this Redis, a restart, SCRIPT FLUSH)
    const [allowed, tokensLeft, retryAfterMs] = await this.script([this.prefix + key], args);
    return { allowed: allowed === 1, tokensLeft, retryAfterMs };
  }
}

/** The key of a client address: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 by its /64. */
export function ipKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return `ip:${mapped[1]}`;
  if (isIPv4(ip)) return `ip:${ip}`;
  if (isIPv6(ip)) return `ip6:${expandIPv6(ip).slice(0, IPV6_PREFIX_GROUPS).join(":")}::/64`;
  return `ip:${ip}`;
}

/** The key of an authenticated user. */
export const userKey = (userId: string): string => `user:${userId}`;

function expandIPv6(ip: string): string[] {
  const noZone = ip.split("%")[0]!;
  const [head = "", tail] = noZone.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const zeros = Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0");
  return [...left, ...zeros, ...right].map((g) => (g.includes(".") ? g : g.toLowerCase().replace(/^0+(?=.)/, "")));
}

export interface RateLimitOptions extends TokenBucketOptions {
  readonly redis: Redis | Cluster;
  /** The bucket of a request (e.g. {@link userKey} or {@link ipKey}); undefined = not limited. */
  readonly keyOf: (req: Request, res: Response) => string | undefined;
  /** Answers a limited request; /api sends 429 + Retry-After, /douyin HTTP 200 with status_code != 0. */
  readonly onLimited: (req: Request, res: Response, retryAfterSeconds: number) => void;
  /**
   * When Redis fails or is slower than `timeoutMs`: true lets the request through,
   * false answers it with UNAVAILABLE (503 through the error handler) and
   * `Retry-After`. Default {@link RATE_LIMIT_DEFAULTS.failOpen} (true), see ADR 0006.
   */
  readonly failOpen?: boolean;
  /** What a request refused that way is told (default {@link RATE_LIMIT_DEFAULTS.unavailableMessage}). */
  readonly unavailableMessage?: string;
  readonly timeoutMs?: number;
  readonly logger: Logger;
  /** Label of this limiter in metrics and logs, e.g. `api`. */
  readonly name?: string;
  /** Where the decision counter lives; default the process registry. */
  readonly registry?: Registry;
}

/**
 * A decision: `allowed`, `limited` (answered 429), `error` (Redis failed or was
 * too slow and the request went through: fail open), `failed_closed` (Redis
 * failed and the request was refused with 503). Limiter errors are
 * `outcome=~"error|failed_closed"`.
 */
export type RateLimitOutcome = "allowed" | "limited" | "error" | "failed_closed";

const METRIC = "gateway_rate_limit_decisions_total";

export function decisionCounter(registry: Registry): Counter<"limiter" | "outcome"> {
  const existing = registry.getSingleMetric(METRIC);
  if (existing) return existing as Counter<"limiter" | "outcome">;
  return new Counter({
    name: METRIC,
    help: "Rate limit decisions by limiter and outcome: allowed, limited, error (Redis unavailable, let through), failed_closed (Redis unavailable, refused)",
    labelNames: ["limiter", "outcome"],
    registers: [registry],
  });
}

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`rate limiter: no answer from Redis within ${ms} ms`);
  }
}

/** The Retry-After of a limited request: whole seconds, at least 1. */
export const retryAfterSeconds = (waitMs: number): number => Math.max(1, Math.ceil(waitMs / MS_PER_SECOND));

export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(ms)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Express middleware: one token per request from the bucket `keyOf` names.
 * Exact across gateway instances that share the Redis.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const bucket = new RedisTokenBucket(options.redis, options);
  const failOpen = options.failOpen ?? RATE_LIMIT_DEFAULTS.failOpen;
  const timeoutMs = options.timeoutMs ?? RATE_LIMIT_DEFAULTS.timeoutMs;
  const limiter = options.name ?? "default";
  const counter = decisionCounter(options.registry ?? metricsRegistry);
  const count = (outcome: RateLimitOutcome) => counter.inc({ limiter, outcome });
  let lastFailureLog = Number.NEGATIVE_INFINITY;
  let suppressed = 0;

  const logFailure = (err: unknown) => {
    const now = Date.now();
    if (now - lastFailureLog < RATE_LIMIT_DEFAULTS.failureLogIntervalMs) {
      suppressed++;
      return;
    }
    options.logger.warn(
      { err, limiter, failOpen, suppressed },
      failOpen ? "rate limiter unavailable; letting requests through" : "rate limiter unavailable; refusing requests",
    );
    lastFailureLog = now;
    suppressed = 0;
  };

  return (req: Request, res: Response, next: NextFunction) => {
    const key = options.keyOf(req, res);
    if (key === undefined) {
      next();
      return;
    }
    withTimeout(bucket.take(key), timeoutMs)
      .then(
        (result) => {
          if (result.allowed) {
            count("allowed");
            next();
            return;
          }
          count("limited");
          options.onLimited(req, res, retryAfterSeconds(result.retryAfterMs));
        },
        (err: unknown) => {
          logFailure(err);
          if (failOpen) {
            count("error");
            next();
          } else {
            count("failed_closed");
            res.setHeader("Retry-After", String(RATE_LIMIT_DEFAULTS.unavailableRetryAfterSeconds));
            next(unavailable(options.unavailableMessage ?? RATE_LIMIT_DEFAULTS.unavailableMessage));
          }
        },
      )
      // A throwing onLimited must still reach the error handler.
      .catch(next);
  };
}
