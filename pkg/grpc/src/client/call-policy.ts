import { status, type ServiceError } from "@grpc/grpc-js";
import {
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  SamplingBreaker,
  type CircuitBreakerPolicy,
  type RetryPolicy,
} from "cockatiel";
import type { Logger } from "@rs/logger";

/** First pause before a retry. */
export const RETRY_BACKOFF_INITIAL_MS = 20;
/** Longest pause between retries. */
export const RETRY_BACKOFF_MAX_MS = 200;

export interface BreakerOptions {
  /** Share of failed calls (0..1, exclusive) over the window that opens the breaker (default 0.5). */
  readonly threshold?: number;
  /** Sampling window (default 10 s). */
  readonly windowMs?: number;
  /** Below this many calls per second the breaker never opens (default 2). */
  readonly minimumRps?: number;
  /** How long it stays open before letting one trial call through (default 2 s). */
  readonly halfOpenAfterMs?: number;
}

export const BREAKER_DEFAULTS = {
  threshold: 0.5,
  windowMs: 10_000,
  minimumRps: 2,
  halfOpenAfterMs: 2_000,
} as const satisfies Required<BreakerOptions>;

/** Failures that say the target is unwell (as opposed to "your request is wrong"). */
const BREAKER_CODES: ReadonlySet<number> = new Set([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);

/** Errors the attempt marked as worth another try (see {@link markRetryable}). */
const retryable = new WeakSet<object>();

/** Marks an attempt's error as retryable: the retry policy only retries these. */
export function markRetryable<E extends object>(err: E): E {
  retryable.add(err);
  return err;
}

export function isServiceError(err: unknown): err is ServiceError {
  return typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "number";
}

/** Bounded retries with exponential backoff and jitter, of marked errors only. */
export function createRetryPolicy(maxRetries: number): RetryPolicy {
  return retry(
    handleWhen((err) => retryable.has(err)),
    {
      maxAttempts: maxRetries,
      backoff: new ExponentialBackoff({ initialDelay: RETRY_BACKOFF_INITIAL_MS, maxDelay: RETRY_BACKOFF_MAX_MS }),
    },
  );
}

/** A breaker over the outcome of whole calls (retries included) to one target. */
export function createBreaker(target: string, options: BreakerOptions, logger: Logger): CircuitBreakerPolicy {
  const o = { ...BREAKER_DEFAULTS, ...options };
  const breaker = circuitBreaker(
    handleWhen((err) => isServiceError(err) && BREAKER_CODES.has(err.code)),
    {
      halfOpenAfter: o.halfOpenAfterMs,
      breaker: new SamplingBreaker({ threshold: o.threshold, duration: o.windowMs, minimumRps: o.minimumRps }),
    },
  );
  breaker.onBreak(() => logger.warn({ target, halfOpenAfterMs: o.halfOpenAfterMs }, "circuit opened"));
  breaker.onReset(() => logger.info({ target }, "circuit closed"));
  return breaker;
}
