/**
 * Persists a chunk of follow/unfollow transitions (docs/adr/0011):
 *
 * 1. Group by physical shard; per shard one READ COMMITTED transaction writes
 *    the `follows` side of the events whose follower lives there, another the
 *    `fans` side of those whose followee lives there, each with its owners'
 *    counts (apply-side.ts), all running at once. The two sides of
 *    one event commit separately (often in different databases); each is
 *    idempotent on its own, so a crash between them is repaired by the
 *    redelivery.
 * 2. After every shard committed: compare-and-delete the pending overlay
 *    entries that were written, and repeat the fans:{B} step of each edge's
 *    current transition (both idempotent).
 * 3. At the same time, publish count.changed for every count that changed, and
 *    again for the owners of edges that did not change (they may be the
 *    redelivery of a batch whose publish was lost; the same version is ignored
 *    downstream).
 *
 * Only then does the caller let the consumer commit the offsets, so each step
 * happens at least once and every repetition is a no-op.
 */
import type { Logger } from "@rs/logger";
import type { ShardedMysql } from "@rs/mysql";
import type { FansCache } from "../adapters/redis/fans-cache.js";
import type { RelationCache } from "../adapters/redis/relation-cache.js";
import { withOrigins, type CountChangeSink } from "./count-changed.publisher.js";
import type { EdgeEvent } from "./edge-fold.js";
import { applySide, type SideOutcome } from "./apply-side.js";
import type { CountChange } from "./count-arithmetic.js";
import { FANS_SIDE, FOLLOWS_SIDE, type EdgeSide } from "./edge-side.js";
import type { PersisterMetrics } from "./persister.metrics.js";
import { inShardTransaction } from "./shard-transaction.js";

export interface RelationPersisterDeps {
  readonly mysql: ShardedMysql;
  /** Clears the pending overlay (compare-and-delete on version). */
  readonly cache: Pick<RelationCache, "clearPendingMany">;
  /** Repeats the fans:{B} step. */
  readonly fans: Pick<FansCache, "applyFanTransitions">;
  readonly counts: CountChangeSink;
  readonly logger: Logger;
  readonly metrics?: PersisterMetrics;
  /** Attempts per shard transaction (deadlocks, lock timeouts, concurrent inserts). */
  readonly txnAttempts?: number;
  readonly lockWaitTimeoutS?: number;
  readonly now?: () => number;
}

/** What the shard transactions of one chunk did. */
export interface ShardWriteResult extends Omit<SideOutcome, "current"> {
  /** Each edge's newest transition in the chunk that is now its state in the fans shard. */
  readonly fansCurrent: readonly EdgeEvent[];
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

export class RelationPersister {
  private readonly now: () => number;

  constructor(private readonly deps: RelationPersisterDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The whole pipeline for one chunk: shard transactions, then the Redis steps and count.changed. */
  async persist(events: readonly EdgeEvent[]): Promise<ShardWriteResult> {
    const t0 = process.hrtime.bigint();
    const result = await this.writeShards(events);
    await this.finish(events, result);
    this.deps.metrics?.persistSeconds.observe({ stage: "total" }, seconds(t0));
    return result;
  }

  /**
   * Steps 2 and 3 for a chunk whose shard transactions committed: the Redis
   * steps and the count.changed publish, at the same time (neither depends on
   * the other). A caller may run the next chunk's shard transactions meanwhile.
   */
  async finish(events: readonly EdgeEvent[], result: ShardWriteResult): Promise<void> {
    const m = this.deps.metrics;
    const t0 = process.hrtime.bigint();
    await Promise.all([
      this.afterCommit(events, result).then(() => m?.persistSeconds.observe({ stage: "redis" }, seconds(t0))),
      this.deps.counts.publish(withOrigins(result.counts, events)).then(() => m?.persistSeconds.observe({ stage: "publish" }, seconds(t0))),
    ]);
  }

  /**
   * Step 1 alone: per physical shard one transaction for the follows side and
   * one for the fans side (each idempotent on its own), all at once. Waits
   * for every transaction before failing, so none of this attempt is still
   * running when the batch is delivered again.
   */
  async writeShards(events: readonly EdgeEvent[]): Promise<ShardWriteResult> {
    const t0 = process.hrtime.bigint();
    const { mysql } = this.deps;
    const nowMs = this.now();
    const tasks: { side: EdgeSide; label: "follows" | "fans"; physical: number; events: EdgeEvent[] }[] = [
      ...[...mysql.groupByShard(events, (e) => e.from)].map(([physical, list]) => ({ side: FOLLOWS_SIDE, label: "follows" as const, physical, events: list })),
      ...[...mysql.groupByShard(events, (e) => e.to)].map(([physical, list]) => ({ side: FANS_SIDE, label: "fans" as const, physical, events: list })),
    ];
    const settled = await Promise.allSettled(
      tasks.map((t) =>
        inShardTransaction(mysql, t.physical, (conn) => applySide(conn, t.side, t.events, nowMs), {
          logger: this.deps.logger,
          attempts: this.deps.txnAttempts,
          lockWaitTimeoutS: this.deps.lockWaitTimeoutS,
          onRetry: (errno) => this.deps.metrics?.txnRetries.inc({ errno: String(errno) }),
        }),
      ),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;

    let edgesChanged = 0;
    let edgesUnchanged = 0;
    let transitions = 0;
    let eventsApplied = 0;
    let underflows = 0;
    const counts: CountChange[] = [];
    const fansCurrent: EdgeEvent[] = [];
    settled.forEach((s, i) => {
      if (s.status !== "fulfilled") return;
      const out = s.value;
      const label = tasks[i]!.label;
      edgesChanged += out.edgesChanged;
      edgesUnchanged += out.edgesUnchanged;
      transitions += out.transitions;
      eventsApplied += out.eventsApplied;
      underflows += out.underflows;
      counts.push(...out.counts);
      if (label === "fans") fansCurrent.push(...out.current);
      this.deps.metrics?.transitions.inc({ side: label }, out.transitions);
      this.deps.metrics?.eventsApplied.inc({ side: label }, out.eventsApplied);
    });
    if (underflows > 0) {
      this.deps.metrics?.countUnderflows.inc(underflows);
      this.deps.logger.warn({ underflows }, "counts would have gone below zero (clamped); run the reconciler");
    }
    if (this.deps.metrics) {
      this.deps.metrics.batchEvents.observe(events.length);
      this.deps.metrics.persistSeconds.observe({ stage: "shards" }, seconds(t0));
    }
    return { edgesChanged, edgesUnchanged, transitions, eventsApplied, counts, fansCurrent, underflows };
  }

  /**
   * Step 2: clear what was written from the pending overlay, repeat the fans
   * steps; each a few script calls for the whole chunk (per hash slot on a
   * cluster), not one per follower or edge.
   */
  async afterCommit(events: readonly EdgeEvent[], result: ShardWriteResult): Promise<void> {
    // The overlay keeps one entry per edge, the newest: clearing with each edge's
    // newest version in the chunk is enough (an older one can no longer be there).
    const newest = new Map<string, { from: number; to: number; version: number }>();
    for (const e of events) {
      const key = `${e.from}:${e.to}`;
      const seen = newest.get(key);
      if (!seen) newest.set(key, { from: e.from, to: e.to, version: e.version });
      else if (seen.version < e.version) seen.version = e.version;
    }
    await Promise.all([this.deps.cache.clearPendingMany([...newest.values()]), this.deps.fans.applyFanTransitions(result.fansCurrent)]);
  }
}
