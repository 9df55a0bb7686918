/**
 * A background job in passes: a first step at start (e.g. rebuilding an
 * index), then one pass every `intervalMs` after the previous one ended, never
 * two at once. `stop()` ends the schedule and waits for the pass in progress.
 * Used by the outbox drainer and the pending sweeper.
 */
export class PeriodicPasses {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly runPass: () => Promise<void>,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Runs `first` now, then the passes. `first` must not throw (log inside it). */
  start(first: () => Promise<void> = async () => undefined): void {
    this.pass = first();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass = this.pass.then(() => this.runPass()).finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
  }
}
