import { status, type ServiceError } from "@grpc/grpc-js";
import { circuitBreaker, CircuitState, ExponentialBackoff, handleWhen, retry, SamplingBreaker, type CircuitBreakerPolicy, type RetryPolicy } from "cockatiel";
import type { Logger } from "@rs/logger";
import { counterMetric, gaugeMetric } from "@rs/runtime";

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

/** `grpc_client_circuit_breaker_state` values: 0 closed, 1 half-open, 2 open (isolated counts as open). */
export const BREAKER_STATE_VALUE: Readonly<Record<CircuitState, number>> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};
const BREAKER_STATE_NAME: Readonly<Record<CircuitState, string>> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.HalfOpen]: "half_open",
  [CircuitState.Open]: "open",
  [CircuitState.Isolated]: "open",
};

/**
 * What a client's calls are grouped by for its breakers: every method has a
 * class, and each class of each target has a breaker of its own, so failures
 * of one class (writes failing on the callee's Kafka) never open the circuit
 * of another (reads). See ADR 0013.
 */
export type MethodClass = string;
/** Class of a method declared idempotent unless the client says otherwise. */
export const READ_CLASS: MethodClass = "read";
/** Class of every other method unless the client says otherwise. */
export const WRITE_CLASS: MethodClass = "write";

/** Labels of one breaker's series. */
export interface BreakerLabels {
  readonly grpc_service: string;
  readonly target: string;
  readonly method_class: MethodClass;
}

/**
 * Exports a breaker's state as `grpc_client_circuit_breaker_state` (set at
 * once, then on every change) and counts its changes in
 * `grpc_client_circuit_breaker_transitions_total` by the state entered.
 */
function observeBreaker(breaker: CircuitBreakerPolicy, labels: BreakerLabels): void {
  const state = gaugeMetric({
    name: "grpc_client_circuit_breaker_state",
    help: "State of the client's circuit breaker per service, target and method class: 0 closed, 1 half-open, 2 open",
    labelNames: ["grpc_service", "target", "method_class"],
  });
  const transitions = counterMetric({
    name: "grpc_client_circuit_breaker_transitions_total",
    help: "Circuit breaker state changes per service, target and method class, by the state entered (closed, half_open, open)",
    labelNames: ["grpc_service", "target", "method_class", "state"],
  });
  state.set({ ...labels }, BREAKER_STATE_VALUE[breaker.state]);
  breaker.onStateChange((s) => {
    state.set({ ...labels }, BREAKER_STATE_VALUE[s]);
    transitions.inc({ ...labels, state: BREAKER_STATE_NAME[s] });
  });
}

/**
 * A breaker over the outcome of whole calls (retries included) of one method
 * class to one target (an etcd service name or a fixed address) of the gRPC
 * service `grpc_service`.
 */
export function createBreaker(labels: BreakerLabels, options: BreakerOptions, logger: Logger): CircuitBreakerPolicy {
  const o = { ...BREAKER_DEFAULTS, ...options };
  const breaker = circuitBreaker(
    handleWhen((err) => isServiceError(err) && BREAKER_CODES.has(err.code)),
    {
      halfOpenAfter: o.halfOpenAfterMs,
      breaker: new SamplingBreaker({ threshold: o.threshold, duration: o.windowMs, minimumRps: o.minimumRps }),
    },
  );
  const { target, method_class: methodClass } = labels;
  breaker.onBreak(() => logger.warn({ target, methodClass, halfOpenAfterMs: o.halfOpenAfterMs }, "circuit opened"));
  breaker.onReset(() => logger.info({ target, methodClass }, "circuit closed"));
  observeBreaker(breaker, labels);
  return breaker;
}
