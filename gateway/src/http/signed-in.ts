/**
 * The signed-in stage of an `/api` route in one Redis round trip: the address
 * bucket, the token's revocation mark and the user's bucket are checked by one
 * script, after the token's signature and claims were checked locally (ADR 0020).
 * It decides exactly what the three separate steps decide (address limit, then
 * token, then user limit); where the script cannot be used (Redis Cluster: its
 * three keys lie in different slots) or fails, those steps run as before.
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Cluster, Redis } from "ioredis";
import type { Registry } from "prom-client";
import { TokenError, type RevocationStore, type TokenVerifier } from "@rs/auth";
import type { Logger } from "@rs/logger";
import { defineScript } from "@rs/redis";
import { metricsRegistry } from "@rs/runtime";
import { logOf } from "./access-log.js";
import { bearerToken, holdRefusal, principalFrom, setPrincipal, tokenRefusal, type Principal } from "./auth.js";
import { ipBucket, type LimiterSpec, type LimitSettings } from "./limits.js";
import { BUCKET_IDLE_MARGIN_MS, TOKEN_BUCKET_LUA_FUNCTIONS, decisionCounter, retryAfterSeconds, userKey, withTimeout } from "./redis-token-bucket.js";

/**
 * KEYS: address bucket, revocation mark, user bucket. ARGV: address capacity and
 * refill per second, user capacity and refill per second, idle margin ms.
 * Returns {address allowed 0/1, its wait ms, revoked 0/1, user allowed 0/1, its wait ms}:
 * a limited address stops before the mark is read, a revoked token before the
 * user's bucket is touched, as the separate steps do.
 */
const SIGNED_IN_LUA = `${TOKEN_BUCKET_LUA_FUNCTIONS}
local now = now_ms()
local margin = tonumber(ARGV[5])
local ip_allowed, _, ip_wait = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), 1, margin, now)
if ip_allowed == 0 then return { 0, ip_wait, 0, 0, 0 } end
if redis.call('EXISTS', KEYS[2]) == 1 then return { 1, 0, 1, 0, 0 } end
local user_allowed, _, user_wait = take(KEYS[3], tonumber(ARGV[3]), tonumber(ARGV[4]), 1, margin, now)
return { 1, 0, 0, user_allowed, user_wait }
`;
const SIGNED_IN_SCRIPT = "gatewaySignedIn";

type SignedInResult = [ipAllowed: number, ipWaitMs: number, revoked: number, userAllowed: number, userWaitMs: number];

/** What the one-script stage needs besides the app's settings: the Redis of the buckets and of the marks. */
export interface SignedInChecks {
  readonly redis: Redis | Cluster;
  readonly revocations: RevocationStore;
}

/** The three separate steps, in order: address bucket, token (refusal held), user bucket. */
export interface SeparateSteps {
  readonly ip: RequestHandler;
  readonly bearer: RequestHandler;
  readonly user: RequestHandler;
}

export interface SignedInOptions {
  /** Absent (tests with their own limiters) or on Redis Cluster: the separate steps. */
  readonly checks: SignedInChecks | undefined;
  readonly verifier: TokenVerifier;
  readonly cfg: LimitSettings;
  /** The family's limiter names are `<family>-ip` and `<family>-user`, as the separate limiters'. */
  readonly family: string;
  readonly onLimited: LimiterSpec["onLimited"];
  readonly logger: Logger;
  readonly separate: SeparateSteps;
  readonly registry?: Registry;
}

/** Runs `handlers` one after the other as one middleware; an error or an answer stops it. */
export function sequence(handlers: readonly RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let i = 0;
    const step: NextFunction = (err?: unknown) => {
      // next() and next(null) go on; an error, 'route' or 'router' leaves the sequence.
      if (err !== undefined && err !== null) return next(err);
      const handler = handlers[i++];
      if (handler === undefined) return next();
      try {
        void Promise.resolve(handler(req, res, step)).catch(next);
      } catch (e) {
        next(e);
      }
    };
    step();
  };
}

/** The signed-in stage: one script when it can be used, else the separate steps. */
export function signedInStage(opts: SignedInOptions): RequestHandler {
  const { checks, verifier, cfg, family, onLimited, logger, separate } = opts;
  const steps = sequence([separate.ip, separate.bearer, separate.user]);
  // ioredis sends a script with keys of several slots to no node: CROSSSLOT.
  if (checks === undefined || checks.redis.isCluster) return steps;
  const script = defineScript<SignedInResult>(checks.redis, SIGNED_IN_SCRIPT, SIGNED_IN_LUA, 3);
  const args = [
    cfg.RATE_LIMIT_IP_CAPACITY,
    cfg.RATE_LIMIT_IP_REFILL_PER_SECOND,
    cfg.RATE_LIMIT_USER_CAPACITY,
    cfg.RATE_LIMIT_USER_REFILL_PER_SECOND,
    BUCKET_IDLE_MARGIN_MS,
  ];
  const counter = decisionCounter(opts.registry ?? metricsRegistry);
  const ipLimiter = `${family}-ip`;
  const userLimiter = `${family}-user`;
  const prefix = cfg.RATE_LIMIT_KEY_PREFIX;

  return (req: Request, res: Response, next: NextFunction) => {
    let principal: Principal;
    const log = () => logOf(res, logger);
    try {
      const token = bearerToken(req);
      principal = principalFrom(verifier.verifyStateless(token), token);
    } catch (err) {
      // No usable token: the address bucket alone, then the refusal after the body.
      holdRefusal(res, err instanceof TokenError ? tokenRefusal(err, log) : err);
      separate.ip(req, res, next);
      return;
    }
    const keys = [prefix + ipBucket(req), checks.revocations.keyOf(principal.jti), prefix + userKey(String(principal.userId))];
    withTimeout(script(keys, args), cfg.RATE_LIMIT_TIMEOUT_MS)
      .then(
        ([ipAllowed, ipWaitMs, revoked, userAllowed, userWaitMs]) => {
          if (ipAllowed !== 1) {
            counter.inc({ limiter: ipLimiter, outcome: "limited" });
            onLimited(req, res, retryAfterSeconds(ipWaitMs));
            return;
          }
          counter.inc({ limiter: ipLimiter, outcome: "allowed" });
          if (revoked === 1) {
            holdRefusal(res, tokenRefusal(new TokenError("revoked"), log));
            next();
            return;
          }
          if (userAllowed !== 1) {
            counter.inc({ limiter: userLimiter, outcome: "limited" });
            onLimited(req, res, retryAfterSeconds(userWaitMs));
            return;
          }
          counter.inc({ limiter: userLimiter, outcome: "allowed" });
          setPrincipal(res, principal);
          next();
        },
        // Redis failed or was slow: the separate steps decide as they always did
        // (each bucket fails open or closed as configured, revocation fails closed).
        () => steps(req, res, next),
      )
      // A throwing onLimited must still reach the error handler.
      .catch(next);
  };
}
