/**
 * The reconciler as a periodic job inside the persister: every `intervalMs`
 * one repairing run (skipped while another instance holds the run lock), its
 * report logged. Stopping aborts a run between keyset steps.
 */
import type { Logger } from "@rs/logger";
import { ReconcileAbortedError } from "./reconcile-context.js";
import { formatReport, totalFound, type ReconcileReport } from "./report-builder.js";
import { ReconcileBusyError, type ReconcileOptions, type Reconciler } from "./reconciler.js";

export interface PeriodicReconcile {
  /** Runs one pass now (unless one is running), as the timer would. */
  runNow(): Promise<ReconcileReport | undefined>;
  stop(): Promise<void>;
}

export function startPeriodicReconcile(
  reconciler: Pick<Reconciler, "run">,
  opts: { intervalMs: number; logger: Logger; options: Omit<ReconcileOptions, "signal" | "dryRun"> },
): PeriodicReconcile {
  const log = opts.logger.child({ component: "reconciler" });
  const abort = new AbortController();
  let running: Promise<ReconcileReport | undefined> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const once = async (): Promise<ReconcileReport | undefined> => {
    try {
      const report = await reconciler.run({ ...opts.options, signal: abort.signal });
      if (totalFound(report) > 0) log.warn({ found: report.found, fixed: report.fixed }, formatReport(report));
      else log.info({ durationMs: report.durationMs, scanned: report.scanned }, "reconcile: the stores agree");
      return report;
    } catch (err) {
      if (err instanceof ReconcileBusyError) log.debug("reconcile skipped: another instance is running it");
      else if (err instanceof ReconcileAbortedError) log.info("reconcile aborted by shutdown");
      else log.error({ err }, "reconcile failed");
      return undefined;
    }
  };
  const runNow = () => {
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  };
  const schedule = () => {
    if (abort.signal.aborted) return;
    timer = setTimeout(() => {
      void runNow().finally(schedule);
    }, opts.intervalMs);
    timer.unref();
  };
  if (opts.intervalMs > 0) schedule();

  return {
    runNow,
    async stop() {
      abort.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
