/**
 * Publishes the transitions queued in the per-user outboxes (a transition whose
 * publish failed, and its undo) once Kafka takes them again, then acknowledges
 * them and runs their fans:{B} steps. One instance at a time per user (a lease
 * in Redis), so a queued event is not sent twice by two instances; a periodic
 * pass over the outbox index picks up what a request could not send at once.
 */
import { unavailable } from "@rs/errors";
import type { Logger } from "@rs/logger";
import { relationMetrics } from "../relation.metrics.js";
import { OutboxFullError, type FanSteps, type OutboxRoom, type TransitionOutbox, type TransitionPublisher } from "./ports.js";
import type { RelationTransition } from "./relation-transition.js";
import { PeriodicPasses } from "./periodic-passes.js";

export interface OutboxDrainerOptions {
  readonly outbox: TransitionOutbox;
  readonly fans: FanSteps;
  readonly publisher: TransitionPublisher;
  /** This instance's lease token. */
  readonly owner: string;
  readonly lockMs: number;
  /** Entries per publish, and users per pass. */
  readonly batch: number;
  readonly intervalMs: number;
  /** The outboxes' bound, checked before each write ({@link OutboxDrainer.admit}); none: unbounded. */
  readonly bounds?: OutboxRoom;
  readonly logger: Logger;
  /** Notes Kafka's ack of a published transition for requests waiting on it (relation-writer.ts awaitInFlight). */
  readonly notePublished?: (t: RelationTransition) => Promise<void>;
}

export type DrainResult = "drained" | "busy" | "failed";

/** The fans:{B} step of a published transition; a failure is logged, the persister repeats the step. */
export async function runFanStep(fans: FanSteps, t: RelationTransition, logger: Logger): Promise<void> {
  try {
    await fans.applyFanTransition(t);
  } catch (err) {
    relationMetrics.fanStepFailures.inc();
    logger.warn({ err, from: t.from, to: t.to, version: t.version }, "fans step failed; the persister repeats it");
  }
}

export class OutboxDrainer {
  private readonly kicks = new Set<Promise<unknown>>();
  private readonly passes: PeriodicPasses;

  constructor(private readonly o: OutboxDrainerOptions) {
    this.passes = new PeriodicPasses(o.intervalMs, () => this.runPass());
  }

  /** Starts the periodic passes; first re-indexes outboxes a crash may have left out of the index. */
  start(): void {
    this.passes.start(() =>
      this.o.outbox
        .rebuildOutboxIndex()
        .then((n) => {
          if (n > 0) this.o.logger.info({ users: n }, "outboxes with queued events found at start");
        })
        .catch((err: unknown) => this.o.logger.warn({ err }, "rebuilding the outbox index failed")),
    );
  }

  /** Stops the passes and waits for the one in progress (and for kicked drains). */
  async stop(): Promise<void> {
    await this.passes.stop();
    await Promise.allSettled([...this.kicks]);
  }

  /**
   * Before a write of A is decided: refuses it with UNAVAILABLE when the
   * outboxes are at their bound (a failed publish could not be queued), so
   * it changes nothing instead of growing the queue.
   */
  async admit(a: number, action: string): Promise<void> {
    try {
      await this.o.bounds?.checkRoom(a);
    } catch (err) {
      if (!(err instanceof OutboxFullError)) throw err;
      relationMetrics.writes.inc({ action, outcome: "outbox_full" });
      if (err.scope === "user") this.kick(a);
      throw unavailable(`the ${action} was not recorded: ${err.message} while the event bus does not take events; nothing changed, retry later`);
    }
  }

  /** Tries to publish A's outbox now, in the background (after a failed publish). */
  kick(a: number): void {
    if (this.passes.isStopped) return;
    const p = this.drainUser(a)
      .catch((err: unknown) => this.o.logger.warn({ err, user: a }, "draining an outbox failed"))
      .finally(() => this.kicks.delete(p));
    this.kicks.add(p);
  }

  /** One pass over the users with queued events; stops at the first publish failure (Kafka is still away). */
  async runPass(): Promise<void> {
    try {
      const users = await this.o.outbox.outboxUsers(this.o.batch);
      for (const a of users) {
        if (this.passes.isStopped) return;
        if ((await this.drainUser(a)) === "failed") return;
      }
    } catch (err) {
      this.o.logger.warn({ err }, "outbox pass failed");
    }
  }

  /** Publishes A's queue in order while holding A's lease; `busy` when another instance holds it. */
  async drainUser(a: number): Promise<DrainResult> {
    const { outbox } = this.o;
    if (!(await outbox.tryLock(a, this.o.owner, this.o.lockMs))) return "busy";
    try {
      for (;;) {
        const entries = await outbox.peekOutbox(a, this.o.batch);
        if (entries.length === 0) {
          await outbox.unindexIfEmpty(a);
          return "drained";
        }
        try {
          await this.o.publisher.publish(entries);
        } catch (err) {
          relationMetrics.outboxFailures.inc();
          this.o.logger.warn({ err, user: a, queued: entries.length }, "publishing queued transitions failed; will retry");
          return "failed";
        }
        await outbox.ackOutbox(
          a,
          entries.map((e) => e.version),
        );
        relationMetrics.outboxPublished.inc(entries.length);
        if (this.o.notePublished) await Promise.all(entries.map((t) => this.o.notePublished!(t).catch(() => undefined)));
        for (const t of entries) await runFanStep(this.o.fans, t, this.o.logger);
      }
    } finally {
      await outbox.unlock(a, this.o.owner).catch((err: unknown) => this.o.logger.warn({ err, user: a }, "releasing the outbox lease failed"));
    }
  }
}
