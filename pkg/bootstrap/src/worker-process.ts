import { createLogger, type Logger } from "@rs/logger";
import { Lifecycle, startAdminServer, type ReadinessCheck } from "@rs/runtime";
import { newInstanceId } from "./instance-id.js";
import type { ProcessContext, ProcessSettings, RunningProcess } from "./process-types.js";

export interface WorkerSetup<E = unknown> {
  readonly checks: readonly ReadinessCheck[];
  readonly exposed?: E;
}

export interface WorkerProcessOptions<E = unknown> {
  readonly name: string;
  readonly settings: ProcessSettings & { readonly LOG_LEVEL: string };
  readonly logger?: Logger;
  /** Opens clients and starts consuming; registers each close step on `ctx.lifecycle`. */
  setup(ctx: ProcessContext & { readonly instanceId: string }): Promise<WorkerSetup<E>>;
}

/**
 * Starts a worker (a Kafka consumer process) with its admin server. `stop()`
 * goes not ready first, then runs the set-up's steps in reverse (stop the
 * consumer, which lets the batch in flight finish and commits; then close clients).
 */
export async function startWorkerProcess<E>(opts: WorkerProcessOptions<E>): Promise<RunningProcess> {
  const s = opts.settings;
  const logger = opts.logger ?? createLogger(opts.name, s.LOG_LEVEL);
  const lifecycle = new Lifecycle(logger);
  const instanceId = newInstanceId(opts.name);
  try {
    const setup = await opts.setup({ logger, lifecycle, instanceId });
    const admin = await startAdminServer({ port: s.ADMIN_PORT, logger, checks: setup.checks });
    lifecycle.add("close admin server", () => admin.close());
    lifecycle.add("stop being ready", () => admin.setDraining());
    logger.info({ instanceId, adminPort: admin.port }, "running");
    return { adminPort: admin.port, instanceId, exposed: setup.exposed, stop: () => lifecycle.stop() };
  } catch (err) {
    await lifecycle.stop();
    throw err;
  }
}
