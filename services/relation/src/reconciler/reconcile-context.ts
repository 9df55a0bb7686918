/**
 * What every check of a reconciler run shares: the shards, the report being
 * filled, the limits (keyset step, grace, pause), and the two ways to act:
 * a shard transaction and publishing changed counts.
 */
import type { Logger } from "@rs/logger";
import type { PoolConnection, ShardedMysql } from "@rs/mysql";
import type { CountChange, CountName } from "../persister/count-arithmetic.js";
import type { ReportBuilder } from "./report-builder.js";

export interface ReconcileContext {
  readonly mysql: ShardedMysql;
  readonly report: ReportBuilder;
  readonly logger: Logger;
  readonly dryRun: boolean;
  /** Rows read per keyset step: the reconciler's memory is O(batchRows). */
  readonly batchRows: number;
  /** Differences whose newer side changed less than this long ago are left alone (in flight). */
  readonly graceMs: number;
  /** Pause between keyset steps. */
  readonly pauseMs: number;
  readonly nowMs: () => number;
  readonly signal?: AbortSignal;
  /** A READ COMMITTED transaction on one shard, retried on deadlocks and concurrent inserts. */
  txn<T>(physical: number, fn: (conn: PoolConnection) => Promise<T>): Promise<T>;
  /**
   * Publishes counts changed by a repair on count.changed, retried; if that
   * keeps failing, writes them to the downstream stores directly instead.
   */
  publish(changes: readonly CountChange[]): Promise<void>;
  /** Told after each keyset step of a downstream check (the rebuild command prints it). */
  readonly progress?: (p: ReconcileProgress) => void;
}

/** How far a downstream check got on one shard: users up to `through` are done. */
export interface ReconcileProgress {
  readonly check: string;
  readonly name: CountName;
  readonly physical: number;
  readonly through: number;
  /** Users compared so far on this shard. */
  readonly scanned: number;
  /** Copies written so far on this shard. */
  readonly written: number;
}

/** Thrown when the run was asked to stop (shutdown). */
export class ReconcileAbortedError extends Error {
  constructor() {
    super("reconcile run aborted");
    this.name = "ReconcileAbortedError";
  }
}

/** Between keyset steps: stop if asked to, and let the persister have the database for a moment. */
export async function step(ctx: ReconcileContext): Promise<void> {
  if (ctx.signal?.aborted) throw new ReconcileAbortedError();
  if (ctx.pauseMs > 0) await new Promise((r) => setTimeout(r, ctx.pauseMs));
  if (ctx.signal?.aborted) throw new ReconcileAbortedError();
}

/** True when a change at `atMs` is younger than the grace period. */
export const isRecent = (ctx: ReconcileContext, atMs: number) => atMs > ctx.nowMs() - ctx.graceMs;
