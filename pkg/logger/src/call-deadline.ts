/**
 * The deadline of the call a piece of work serves, carried through async calls
 * (AsyncLocalStorage): a gRPC server sets it per call from the caller's
 * deadline, and waits on other processes (MySQL statements, a Kafka publish)
 * shorten themselves to end before it, so the service answers UNAVAILABLE
 * while its caller still listens instead of the caller hearing a timeout.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const storage = new AsyncLocalStorage<number>();

/** Runs `fn` with `deadlineMs` (epoch ms) as the current call's deadline; none when undefined or infinite. */
export function withCallDeadline<T>(deadlineMs: number | undefined, fn: () => T): T {
  if (deadlineMs === undefined || !Number.isFinite(deadlineMs)) return storage.exit(fn);
  return storage.run(deadlineMs, fn);
}

/** The current call's deadline (epoch ms); undefined outside a call with one. */
export function callDeadline(): number | undefined {
  return storage.getStore();
}

/** Milliseconds left until the current call's deadline (may be ≤ 0); undefined outside a call with one. */
export function callTimeLeftMs(now: number = Date.now()): number | undefined {
  const d = storage.getStore();
  return d === undefined ? undefined : d - now;
}

/**
 * A wait's bound inside the current call: `configuredMs`, shortened to end
 * `reserveMs` before the call's deadline (never below 1 ms).
 */
export function boundByCallDeadline(configuredMs: number, reserveMs: number): number {
  const left = callTimeLeftMs();
  if (left === undefined) return configuredMs;
  return Math.max(1, Math.min(configuredMs, left - reserveMs));
}
