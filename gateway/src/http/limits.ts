import type { Request, RequestHandler, Response } from "express";
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "@rs/logger";
import { ipKey, rateLimit, userKey } from "./redis-token-bucket.js";
import { principalOf } from "./auth.js";

/** What one limiter needs besides Redis: its bucket, its key and the family's answer. */
export interface LimiterSpec {
  readonly name: string;
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly keyOf: (req: Request, res: Response) => string | undefined;
  readonly onLimited: (req: Request, res: Response, retryAfterSeconds: number) => void;
  /**
   * Refuse requests while Redis cannot answer, whatever `RATE_LIMIT_FAIL_OPEN`
   * says, with this message (503 + Retry-After). The register/login limiter
   * does: unthrottled password guessing is worse than no sign-in (ADR 0006).
   */
  readonly alwaysFailClosed?: { readonly message: string };
}

/** Builds a limiter middleware; the app gets one, so tests can count or skip. */
export type LimiterFactory = (spec: LimiterSpec) => RequestHandler;

export interface LimitSettings {
  readonly RATE_LIMIT_USER_CAPACITY: number;
  readonly RATE_LIMIT_USER_REFILL_PER_SECOND: number;
  readonly RATE_LIMIT_IP_CAPACITY: number;
  readonly RATE_LIMIT_IP_REFILL_PER_SECOND: number;
  readonly RATE_LIMIT_AUTH_CAPACITY: number;
  readonly RATE_LIMIT_AUTH_REFILL_PER_SECOND: number;
  readonly RATE_LIMIT_FAIL_OPEN: boolean;
  readonly RATE_LIMIT_TIMEOUT_MS: number;
  readonly RATE_LIMIT_KEY_PREFIX: string;
}

/** Limiters backed by the Redis token bucket of {@link rateLimit} (exact across gateway instances). */
export function redisLimiterFactory(redis: Redis | Cluster, cfg: LimitSettings, logger: Logger): LimiterFactory {
  return ({ alwaysFailClosed, ...spec }) =>
    rateLimit({
      ...spec,
      redis,
      logger,
      failOpen: alwaysFailClosed ? false : cfg.RATE_LIMIT_FAIL_OPEN,
      ...(alwaysFailClosed ? { unavailableMessage: alwaysFailClosed.message } : {}),
      timeoutMs: cfg.RATE_LIMIT_TIMEOUT_MS,
      keyPrefix: cfg.RATE_LIMIT_KEY_PREFIX,
    });
}

/** What register/login answer (503) while their limiter cannot reach Redis. */
export const CREDENTIALS_UNLIMITED_MESSAGE = "sign-in is paused: register/login attempts cannot be rate-limited right now, try again later";

/** The client address's bucket (the socket peer, or X-Forwarded-For within the trusted hops). */
export const ipBucket = (req: Request): string => ipKey(req.ip ?? req.socket.remoteAddress ?? "unknown");

/** The three buckets every family uses, parameterised by how the family answers "too many". */
export function familyLimiters(make: LimiterFactory, cfg: LimitSettings, family: string, onLimited: LimiterSpec["onLimited"]) {
  return {
    /** Every request, before authentication: bounds token-guessing and anonymous traffic per address. */
    ip: make({ name: `${family}-ip`, capacity: cfg.RATE_LIMIT_IP_CAPACITY, refillPerSecond: cfg.RATE_LIMIT_IP_REFILL_PER_SECOND, keyOf: ipBucket, onLimited }),
    /** After authentication: per signed-in user, whichever address they come from. */
    user: make({
      name: `${family}-user`,
      capacity: cfg.RATE_LIMIT_USER_CAPACITY,
      refillPerSecond: cfg.RATE_LIMIT_USER_REFILL_PER_SECOND,
      keyOf: (_req, res) => {
        const p = principalOf(res);
        return p ? userKey(String(p.userId)) : undefined;
      },
      onLimited,
    }),
    /**
     * register/login: each costs a bcrypt hash, so a small bucket per address
     * (shared by both families). It fails closed: without it nothing bounds
     * password guessing.
     */
    auth: make({
      name: `${family}-auth`,
      capacity: cfg.RATE_LIMIT_AUTH_CAPACITY,
      refillPerSecond: cfg.RATE_LIMIT_AUTH_REFILL_PER_SECOND,
      keyOf: (req) => `auth:${ipBucket(req)}`,
      onLimited,
      alwaysFailClosed: { message: CREDENTIALS_UNLIMITED_MESSAGE },
    }),
  };
}
