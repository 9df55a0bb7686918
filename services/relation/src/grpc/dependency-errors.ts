/**
 * A store that cannot be reached is a retryable condition, not a bug: errors of
 * a lost Redis or MySQL connection leave as UNAVAILABLE (without their text),
 * everything else keeps its status or becomes INTERNAL in the unary adapter.
 */
import { isStatusError, unavailable } from "@rs/errors";

/** ioredis: no connection and no offline queue, a command that timed out, a closed connection; Redis at maxmemory with nothing left to evict. */
const REDIS_DOWN = [/Stream isn't writeable/, /Command timed out/, /Connection is closed/, /Reached the max retries per request limit/, /^OOM command not allowed/];
/** mysql2 / Node socket codes of an unreachable or lost database connection. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "PROTOCOL_CONNECTION_LOST", "ER_CON_COUNT_ERROR"]);

export function isDependencyOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
  if (err.message === "Queue limit reached.") return true;
  return REDIS_DOWN.some((re) => re.test(err.message));
}

/** Runs a use case, turning store outages into UNAVAILABLE. */
export async function mapOutages<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!isStatusError(err) && isDependencyOutage(err)) throw unavailable("a backing store is unavailable; retry");
    throw err;
  }
}
