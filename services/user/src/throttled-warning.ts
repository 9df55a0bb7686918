import type { Logger } from "@rs/logger";

/** During an outage every request fails the same way; one line per interval says so. */
export const WARNING_INTERVAL_MS = 10_000;

/**
 * A warning logged at most once per interval (the rest at debug, with a count),
 * so a store outage does not turn into one log line per request.
 */
export function throttledWarning(logger: Logger, message: string, intervalMs = WARNING_INTERVAL_MS): (err: unknown) => void {
  let lastMs = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (err) => {
    const now = Date.now();
    if (now - lastMs >= intervalMs) {
      logger.warn({ err, suppressed }, message);
      lastMs = now;
      suppressed = 0;
    } else {
      suppressed++;
      logger.debug({ err }, message);
    }
  };
}
