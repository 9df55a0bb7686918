import { Etcd3, isRecoverableError } from "etcd3";
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry } from "cockatiel";

/** How long a single (non-stream) etcd call may take before it fails. */
export const ETCD_CALL_TIMEOUT_MS = 3_000;
/** How long the first connection to etcd may take. */
export const ETCD_DIAL_TIMEOUT_MS = 5_000;
/** After this many consecutive failures a host is skipped for a while. */
const HOST_BREAKER_FAILURES = 3;
/**
 * How long a failing host is skipped. etcd3's own default is 5 s; a shorter
 * pause lets leases and watches recover quickly after an etcd restart.
 */
export const ETCD_HOST_BREAKER_HALF_OPEN_MS = 1_000;
/** Retries of one etcd call across hosts (the global policy). */
const GLOBAL_RETRY_ATTEMPTS = 2;
/** Reconnect backoff of watch streams (etcd3's default grows to 30 s). */
const WATCH_BACKOFF_INITIAL_MS = 100;
export const WATCH_BACKOFF_MAX_MS = 2_000;
/**
 * HTTP/2 keepalive pings on the etcd connection, so a silently dead peer (no
 * RST, e.g. a partition) is noticed. etcd accepts pings every 5 s or slower.
 */
const KEEPALIVE_TIME_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 5_000;

export interface EtcdClientOptions {
  /** Deadline of each non-stream call (default {@link ETCD_CALL_TIMEOUT_MS}). */
  callTimeoutMs?: number;
  /** Connect timeout (default {@link ETCD_DIAL_TIMEOUT_MS}). */
  dialTimeoutMs?: number;
  /** How long a failing host is skipped (default {@link ETCD_HOST_BREAKER_HALF_OPEN_MS}). */
  hostBreakerHalfOpenMs?: number;
  /** Upper bound of the watch reconnect backoff (default {@link WATCH_BACKOFF_MAX_MS}). */
  watchBackoffMaxMs?: number;
}

/**
 * Creates an etcd v3 client tuned for service discovery: every unary call has
 * a deadline, and failing hosts and broken watch streams are retried within
 * seconds rather than etcd3's defaults (5 s breaker, 30 s watch backoff), so
 * registrations and watches come back soon after an etcd restart.
 *
 * @param endpoints etcd client URLs, e.g. `["http://127.0.0.1:2379"]`
 */
export function createEtcd(endpoints: readonly string[], opts: EtcdClientOptions = {}): Etcd3 {
  if (endpoints.length === 0) throw new Error("createEtcd: no etcd endpoints given");
  const callTimeoutMs = opts.callTimeoutMs ?? ETCD_CALL_TIMEOUT_MS;
  return new Etcd3({
    hosts: [...endpoints],
    dialTimeout: opts.dialTimeoutMs ?? ETCD_DIAL_TIMEOUT_MS,
    // Streams (watch, lease keep-alive) live as long as the client; only unary calls get a deadline.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    grpcOptions: {
      "grpc.keepalive_time_ms": KEEPALIVE_TIME_MS,
      "grpc.keepalive_timeout_ms": KEEPALIVE_TIMEOUT_MS,
    },
    faultHandling: {
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), {
          halfOpenAfter: opts.hostBreakerHalfOpenMs ?? ETCD_HOST_BREAKER_HALF_OPEN_MS,
          breaker: new ConsecutiveBreaker(HOST_BREAKER_FAILURES),
        }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: GLOBAL_RETRY_ATTEMPTS }),
      // etcd3 types this as a started backoff (it calls next() on it to begin).
      watchBackoff: new ExponentialBackoff({
        initialDelay: WATCH_BACKOFF_INITIAL_MS,
        maxDelay: opts.watchBackoffMaxMs ?? WATCH_BACKOFF_MAX_MS,
      }).next(),
    },
  });
}
