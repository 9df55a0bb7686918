import type { Logger } from "@rs/logger";

/** One step of shutdown, run in the order registered. */
export interface ShutdownStep {
  readonly name: string;
  run(): Promise<void>;
}

/**
 * Ordered graceful shutdown. Steps are added as resources come up and run in
 * the order given (unhealthy → deregister → stop serving → flush → close); a
 * failing step is logged and the rest still run, so nothing stays open.
 */
export class Lifecycle {
  private readonly steps: ShutdownStep[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run: async () => run() });
  }

  /** Runs every step once; later calls return the same promise. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const step of this.steps) {
        const t0 = Date.now();
        try {
          await step.run();
          this.logger.info({ step: step.name, ms: Date.now() - t0 }, "shutdown step done");
        } catch (err) {
          this.logger.error({ err, step: step.name }, "shutdown step failed");
        }
      }
    })();
    return this.stopping;
  }
}
