/**
 * The pending sweeper: publishes transitions that Redis holds as pending but
 * whose event may never have left (docs/adr/0014-pending-sweeper.md). The
 * writer marks a user in the pending index before each decision; the sweeper
 * looks at marked users once their mark is due, and republishes every pending
 * entry older than `sweepAfterMs`. Events are idempotent by version, so a
 * republished event that was in fact delivered changes nothing; the persister
 * then runs every step (both shards, pending cleared, fans:{B}, count.changed).
 *
 * An entry stays pending while the persister lags, so republishing backs off:
 * the next look at a user comes after as long again as its oldest entry's age
 * (capped), a few duplicates per entry at most, never a flood.
 */
import type { Logger } from "@rs/logger";
import { relationMetrics } from "../relation.metrics.js";
import { PeriodicPasses } from "./periodic-passes.js";
import type { PendingIndexPort, TransitionPublisher } from "./ports.js";
import type { PendingEntry, RelationTransition } from "./relation-transition.js";

/** Versions are Redis TIME in µs at the latest when made (ADR 0007): an upper bound of an entry's birth. */
const US_PER_MS = 1_000;

export interface PendingSweepPolicy {
  /** An entry older than this is published again. */
  readonly sweepAfterMs: number;
  /** Longest wait between two looks at a user that still holds old entries. */
  readonly maxBackoffMs: number;
}

export interface SweepDecision {
  /** Entries to publish again now. */
  readonly publish: PendingEntry[];
  /** When to look at the user next; `undefined`: nothing pending, drop it from the index. */
  readonly nextDueMs: number | undefined;
}

/** When an entry was made, in ms (from its version). */
export const entryBirthMs = (e: PendingEntry): number => Math.floor(e.version / US_PER_MS);

/** What to do with one user's pending entries at `nowMs` (pure). */
export function decideSweep(entries: readonly PendingEntry[], nowMs: number, p: PendingSweepPolicy): SweepDecision {
  if (entries.length === 0) return { publish: [], nextDueMs: undefined };
  const publish = entries.filter((e) => nowMs - entryBirthMs(e) >= p.sweepAfterMs);
  if (publish.length === 0) {
    // all young: look again when the oldest comes of age
    const oldest = Math.min(...entries.map(entryBirthMs));
    return { publish, nextDueMs: Math.min(oldest + p.sweepAfterMs, nowMs + p.maxBackoffMs) };
  }
  const oldestAge = Math.max(...publish.map((e) => nowMs - entryBirthMs(e)));
  return { publish, nextDueMs: nowMs + Math.min(Math.max(oldestAge, p.sweepAfterMs), p.maxBackoffMs) };
}

export const pendingToTransition = (a: number, e: PendingEntry): RelationTransition => ({
  from: a,
  to: e.to,
  action: e.action,
  version: e.version,
  occurredAtMs: e.timeMs,
  source: e.source,
});

export interface PendingSweeperOptions extends PendingSweepPolicy {
  readonly index: PendingIndexPort;
  readonly pending: { pendingEntries(a: number): Promise<PendingEntry[]> };
  readonly publisher: TransitionPublisher;
  /** How often a pass runs. */
  readonly intervalMs: number;
  /** Users claimed per pass. */
  readonly batch: number;
  /** How long a claim keeps other instances off a user (a crashed sweeper's users come back after it). */
  readonly leaseMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class PendingSweeper {
  private readonly passes: PeriodicPasses;
  private readonly now: () => number;

  constructor(private readonly o: PendingSweeperOptions) {
    this.now = o.now ?? Date.now;
    this.passes = new PeriodicPasses(o.intervalMs, () => this.runPass());
  }

  /** Starts the passes; first indexes pending overlays the index does not know (written before it, or lost with a restart). */
  start(): void {
    this.passes.start(() =>
      this.o.index
        .rebuild(this.now())
        .then((n) => {
          if (n > 0) this.o.logger.info({ users: n }, "pending overlays found at start; the sweeper looks at them now");
        })
        .catch((err: unknown) => this.o.logger.warn({ err }, "rebuilding the pending index failed")),
    );
  }

  stop(): Promise<void> {
    return this.passes.stop();
  }

  /** One pass: claim due users, look at each; stops at the first publish failure (Kafka away: the rest keep their claim and come back). */
  async runPass(): Promise<void> {
    try {
      const now = this.now();
      const claim = await this.o.index.claimDue(now, this.o.leaseMs, this.o.batch);
      for (const a of claim.users) {
        if (this.passes.isStopped) return;
        if (!(await this.sweepUser(a, claim.claimScore))) return;
      }
    } catch (err) {
      this.o.logger.warn({ err }, "pending sweep pass failed");
    }
  }

  /** Looks at one claimed user; false when publishing failed. */
  private async sweepUser(a: number, claimScore: string): Promise<boolean> {
    const now = this.now();
    const entries = await this.o.pending.pendingEntries(a);
    const d = decideSweep(entries, now, this.o);
    if (d.publish.length > 0) {
      try {
        await this.o.publisher.publish(d.publish.map((e) => pendingToTransition(a, e)));
      } catch (err) {
        relationMetrics.pendingChecks.inc({ outcome: "failed" });
        this.o.logger.warn({ err, user: a, entries: d.publish.length }, "republishing pending transitions failed; will retry");
        await this.o.index.settle(a, claimScore, now + this.o.sweepAfterMs);
        return false;
      }
      relationMetrics.pendingSwept.inc(d.publish.length);
      this.o.logger.info(
        { user: a, entries: d.publish.length, versions: d.publish.map((e) => e.version) },
        "republished pending transitions older than the sweep delay",
      );
    }
    relationMetrics.pendingChecks.inc({ outcome: d.publish.length > 0 ? "published" : d.nextDueMs === undefined ? "empty" : "young" });
    await this.o.index.settle(a, claimScore, d.nextDueMs);
    return true;
  }
}
