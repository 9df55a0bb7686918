import { createLogger } from "@rs/logger";

/** How long a graceful stop may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 25_000;

/**
 * Runs a process's `start()` and wires SIGINT/SIGTERM to its `stop()`. A start
 * failure (bad config, unreachable dependency) exits non-zero with the reason.
 */
export function runMain(name: string, start: () => Promise<{ stop(): Promise<void> }>): void {
  const logger = createLogger(name);
  start().then(
    (app) => {
      let signalled = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (signalled) return;
        signalled = true;
        logger.info({ signal }, "stopping");
        const timer = setTimeout(() => {
          logger.error("graceful stop took too long; exiting");
          process.exit(1);
        }, SHUTDOWN_DEADLINE_MS);
        timer.unref();
        app.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, "stop failed");
            process.exit(1);
          },
        );
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    },
    (err: unknown) => {
      // The message names what is wrong (a ConfigError lists every variable).
      process.stderr.write(`${name}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      logger.flush?.();
      process.exit(1);
    },
  );
}
