/**
 * The reconciler: compares the pending overlay with `follows`, `follows` with
 * `fans`, and both with the stored counts, shard by shard in bounded memory;
 * repairs what differs from the newer version (unless it is a dry run) and
 * reports what it found and fixed. It is how an operator recovers after a
 * disaster, and the persister runs it periodically. See docs/adr/0011.
 *
 * Order matters: lost transitions from the overlay first (they change edges),
 * then the edges (repairs move counts by their transitions), then the counts,
 * then their copies downstream (the count store and the users' counters).
 * One repairing run at a time in the whole deployment (a named lock in the
 * first shard); dry runs take no lock.
 */
import { Counter } from "prom-client";
import type { RedisClient } from "@rs/redis";
import type { Logger } from "@rs/logger";
import type { Connection, RowDataPacket, ShardedMysql } from "@rs/mysql";
import { metricsRegistry } from "@rs/runtime";
import type { RelationCache } from "../adapters/redis/relation-cache.js";
import type { CountChangeSink } from "../persister/count-changed.publisher.js";
import type { CountChange } from "../persister/count-arithmetic.js";
import { FANS_SIDE, FOLLOWS_SIDE } from "../persister/edge-side.js";
import type { RelationPersister } from "../persister/relation-persister.js";
import { inShardTransaction } from "../persister/shard-transaction.js";
import { RelationReadsRepository } from "../adapters/mysql/relation-reads.repository.js";
import { checkCachedLists } from "./cached-lists-check.js";
import { checkCounts } from "./count-check.js";
import { checkDownstream } from "./downstream-check.js";
import type { DownstreamCheck, DownstreamCountStore } from "./downstream-stores.js";
import { checkEdges } from "./edge-check.js";
import { checkPending } from "./pending-check.js";
import type { ReconcileContext, ReconcileProgress } from "./reconcile-context.js";
import { FINDING_KINDS, ReportBuilder, type ReconcileReport } from "./report-builder.js";

export const RECONCILE_CHECKS = ["pending", "edges", "counts", "counters", "profiles", "cached"] as const;
/** The checks that compare (and rebuild) the copies of the counts: the count store and the users' counters. */
export const DOWNSTREAM_CHECKS = ["counters", "profiles"] as const satisfies readonly DownstreamCheck[];
export type ReconcileCheck = (typeof RECONCILE_CHECKS)[number];

export interface ReconcilerDeps {
  readonly mysql: ShardedMysql;
  readonly redis: RedisClient;
  readonly cache: Pick<RelationCache, "pendingEntries" | "clearPending" | "keys">;
  readonly persister: Pick<RelationPersister, "writeShards" | "afterCommit">;
  readonly counts: CountChangeSink;
  readonly logger: Logger;
  readonly txnAttempts?: number;
  readonly lockWaitTimeoutS?: number;
  /** The copies of the counts (checks "counters" and "profiles"; a check whose store is not given is skipped). */
  readonly downstream?: readonly DownstreamCountStore[];
  /** Attempts of a repair's count.changed publish before its counts are written downstream directly (default 3). */
  readonly publishAttempts?: number;
  /** Wait before the first retry of a publish (doubles). */
  readonly publishRetryMs?: number;
  /** Share of the cached list keys the "cached" check compares with the shards (default 0.05; 1 = all). */
  readonly cachedListsSample?: number;
}

export interface ReconcileOptions {
  /** Report only; change nothing. */
  readonly dryRun?: boolean;
  /** Which checks to run (default all). */
  readonly checks?: readonly ReconcileCheck[];
  /** Physical shards to scan (default all). The pending check is not per shard. */
  readonly shards?: readonly number[];
  readonly batchRows: number;
  readonly graceMs: number;
  readonly pauseMs: number;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  /** Told after each keyset step of the downstream checks. */
  readonly progress?: (p: ReconcileProgress) => void;
}

/** Another repairing run holds the lock. */
export class ReconcileBusyError extends Error {
  constructor() {
    super("another reconciler is running (lock rs_reconcile held)");
    this.name = "ReconcileBusyError";
  }
}

const LOCK_SHARD = 0;
/** Share of the cached list keys a reconciler run compares by default: a sample, since every key costs a shard query. */
const DEFAULT_CACHED_LISTS_SAMPLE = 0.05;
const DEFAULT_PUBLISH_ATTEMPTS = 3;
const DEFAULT_PUBLISH_RETRY_MS = 200;

const found: Counter<"kind"> =
  (metricsRegistry.getSingleMetric("relation_reconciler_found_total") as Counter<"kind"> | undefined) ??
  new Counter({
    name: "relation_reconciler_found_total",
    help: "Divergences found by the reconciler, by kind",
    labelNames: ["kind"],
    registers: [metricsRegistry],
  });
const fixed: Counter<"kind"> =
  (metricsRegistry.getSingleMetric("relation_reconciler_fixed_total") as Counter<"kind"> | undefined) ??
  new Counter({
    name: "relation_reconciler_fixed_total",
    help: "Divergences repaired by the reconciler, by kind",
    labelNames: ["kind"],
    registers: [metricsRegistry],
  });

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async run(opts: ReconcileOptions): Promise<ReconcileReport> {
    const dryRun = opts.dryRun ?? false;
    const checks = new Set(opts.checks ?? RECONCILE_CHECKS);
    const shards = opts.shards ?? Array.from({ length: this.deps.mysql.physicalCount }, (_, i) => i);
    const report = new ReportBuilder(dryRun);
    const lock = dryRun ? undefined : await this.lock();
    try {
      const ctx: ReconcileContext = {
        mysql: this.deps.mysql,
        report,
        logger: this.deps.logger,
        dryRun,
        batchRows: opts.batchRows,
        graceMs: opts.graceMs,
        pauseMs: opts.pauseMs,
        nowMs: opts.now ?? Date.now,
        signal: opts.signal,
        txn: (physical, fn) =>
          inShardTransaction(this.deps.mysql, physical, fn, {
            logger: this.deps.logger,
            attempts: this.deps.txnAttempts,
            lockWaitTimeoutS: this.deps.lockWaitTimeoutS,
          }),
        publish: (changes) => this.publishOrWrite(changes, report),
        progress: opts.progress,
      };
      if (checks.has("pending")) await checkPending(ctx, this.deps);
      if (checks.has("edges")) {
        for (const p of shards) await checkEdges(ctx, p, FOLLOWS_SIDE);
        for (const p of shards) await checkEdges(ctx, p, FANS_SIDE);
      }
      if (checks.has("counts")) {
        for (const p of shards) {
          await checkCounts(ctx, p, FOLLOWS_SIDE);
          await checkCounts(ctx, p, FANS_SIDE);
        }
      }
      for (const store of this.deps.downstream ?? []) {
        if (!checks.has(store.check)) continue;
        for (const p of shards) {
          await checkDownstream(ctx, p, FOLLOWS_SIDE, store);
          await checkDownstream(ctx, p, FANS_SIDE, store);
        }
      }
      if (checks.has("cached")) await this.checkCached(report, dryRun, opts.signal);
    } finally {
      await lock?.release();
    }
    const result = report.build();
    for (const k of FINDING_KINDS) {
      if (result.found[k] > 0) found.inc({ kind: k }, result.found[k]);
      if (result.fixed[k] > 0) fixed.inc({ kind: k }, result.fixed[k]);
    }
    return result;
  }

  /**
   * A sample of the cached lists against the shards (reconciler/cached-lists-check.ts):
   * a key that differs is dropped and reloads on its next read. The full pass
   * runs after a possible Redis data loss (persister/redis-loss-watch.ts).
   */
  private async checkCached(report: ReportBuilder, dryRun: boolean, signal: AbortSignal | undefined): Promise<void> {
    const { redis, cache, mysql, logger } = this.deps;
    const r = await checkCachedLists(
      { redis, keys: cache.keys, store: new RelationReadsRepository(mysql), pending: cache, logger },
      {
        sample: this.deps.cachedListsSample ?? DEFAULT_CACHED_LISTS_SAMPLE,
        dryRun,
        ...(signal ? { signal } : {}),
        onDiffer: (kind, user) => report.find(kind === "following" ? "cached_following_wrong" : "cached_fans_wrong", `${kind}:{${user}}`),
      },
    );
    report.scanned.cachedLists += r.followingChecked + r.fansChecked;
    report.fix("cached_following_wrong", r.followingDropped);
    report.fix("cached_fans_wrong", r.fansDropped);
  }

  /**
   * count.changed for repaired counts, retried with back-off. A repair is
   * committed before its publish, and the next pass finds the shards right, so
   * a publish that keeps failing must not be dropped: its counts are then
   * written to the downstream stores directly (the consumers' rule, so no newer
   * value is overwritten), and the report says how many went unpublished.
   */
  private async publishOrWrite(changes: readonly CountChange[], report: ReportBuilder): Promise<void> {
    if (changes.length === 0) return;
    const attempts = Math.max(1, this.deps.publishAttempts ?? DEFAULT_PUBLISH_ATTEMPTS);
    let failure: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.deps.counts.publish(changes);
        return;
      } catch (err) {
        failure = err;
        this.deps.logger.warn({ err, attempt, counts: changes.length }, "reconciler: count.changed publish failed");
        if (attempt < attempts) await new Promise((r) => setTimeout(r, (this.deps.publishRetryMs ?? DEFAULT_PUBLISH_RETRY_MS) * 2 ** (attempt - 1)));
      }
    }
    const stores = this.deps.downstream ?? [];
    if (stores.length === 0) throw failure;
    for (const store of stores) await store.apply(changes);
    report.unpublished += changes.length;
    this.deps.logger.error(
      { err: failure, counts: changes.length },
      "reconciler: count.changed not published; repaired counts written to the count store and the profiles directly",
    );
  }

  /** The deployment-wide run lock: a MySQL named lock on a dedicated connection (released if the process dies). */
  private async lock(): Promise<{ release(): Promise<void> }> {
    const conn: Connection = await this.deps.mysql.connect(LOCK_SHARD);
    try {
      const [rows] = await conn.query<(RowDataPacket & { got: number | null })[]>("SELECT GET_LOCK(CONCAT('rs_reconcile:', DATABASE()), 0) AS got");
      if (Number(rows[0]?.got) !== 1) throw new ReconcileBusyError();
    } catch (err) {
      await conn.end().catch(() => undefined);
      throw err;
    }
    return {
      async release() {
        await conn.query("SELECT RELEASE_LOCK(CONCAT('rs_reconcile:', DATABASE()))").catch(() => undefined);
        await conn.end().catch(() => undefined);
      },
    };
  }
}
