import type { Logger } from "@rs/logger";
import type { Lifecycle, ReadinessCheck } from "@rs/runtime";

/** The settings every process reads (see `processSettings` in @rs/config). */
export interface ProcessSettings {
  readonly ADMIN_PORT: number;
  readonly SERVICE_HOST: string;
  readonly SHUTDOWN_TIMEOUT_MS: number;
}

/** Handed to a process's set-up: where to log and where to register shutdown steps. */
export interface ProcessContext {
  readonly logger: Logger;
  /**
   * Shutdown steps run in reverse order of registration, so resources opened
   * first (pools, clients) are closed last, after serving has stopped.
   */
  readonly lifecycle: Lifecycle;
}

/** A started process: its bound ports and its one way down. */
export interface RunningProcess {
  readonly adminPort: number;
  /** The bound gRPC port, for rpc processes. */
  readonly grpcPort?: number;
  readonly instanceId: string;
  /** Whatever the set-up returned as `exposed`, for tests that run the process in-process. */
  readonly exposed?: unknown;
  stop(): Promise<void>;
}

export type { ReadinessCheck };
