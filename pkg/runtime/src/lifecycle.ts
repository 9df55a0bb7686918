import type { Logger } from "@rs/logger";

/** One step of shutdown. */
export interface ShutdownStep {
  readonly name: string;
  run(): Promise<void>;
}

/**
 * Ordered graceful shutdown. Steps are added as resources come up and run in
 * reverse order (like `defer`): what came up last goes down first, so a
 * process added as "close pools, flush Kafka, stop gRPC, deregister, go
 * unready" stops as unready → deregister → drain → flush → close. A failing
 * step is logged and the rest still run, so nothing stays open.
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
      for (const step of [...this.steps].reverse()) {
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
