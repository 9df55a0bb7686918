/**
 * Follow and unfollow (DESIGN §4): decide in Redis, publish, answer.
 *
 * 1. following:{A} is loaded (shard rows + pending overlay, singleflight).
 * 2. One script decides: no-op (already so: success, no event), over the cap,
 *    or a new versioned transition recorded pending.
 * 3. The transition is published (key = A); only the broker's ack makes it "ok".
 * 4. Then the fans:{B} step (its own idempotent step; the persister repeats it).
 * If the publish fails, the transition is undone in Redis by a newer opposite
 * one, and both are queued in A's outbox in the same script (the failed one may
 * not have reached Kafka), so every transition in Redis gets its event; the
 * client hears UNAVAILABLE and the outbox drainer publishes the queue.
 * Before each decision the user is marked in the pending index, so a
 * transition whose reply or publish was lost (Redis stall, crash, failed undo)
 * is found and published by the pending sweeper within seconds.
 */
import { failedPrecondition, invalidArgument, notFound, unavailable } from "@rs/errors";
import type { Logger } from "@rs/logger";
import type { FansCache } from "../adapters/redis/fans-cache.js";
import type { RelationCache } from "../adapters/redis/relation-cache.js";
import { relationMetrics } from "../relation.metrics.js";
import type { FollowingLoader } from "./following-loader.js";
import type { PendingIndexPort } from "./pending-sweeper.js";
import { runFanStep, type OutboxDrainer } from "./outbox-drainer.js";
import type { TransitionPublisher, UserDirectory } from "./ports.js";
import type { RelationAction, RelationTransition } from "./relation-transition.js";

export interface RelationWriterDeps {
  readonly cache: RelationCache;
  readonly fans: FansCache;
  readonly loader: FollowingLoader;
  readonly users: UserDirectory;
  readonly publisher: TransitionPublisher;
  readonly drainer: OutboxDrainer;
  /** Marked before each decision; the sweeper looks at the user once the mark is due. */
  readonly pendingIndex: Pick<PendingIndexPort, "mark">;
  /** How long after a decision the sweeper may consider its event lost. */
  readonly sweepAfterMs: number;
  /** Most users one user may follow. */
  readonly followingCap: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** What a write did: false when the edge was already in the asked state. */
export interface WriteOutcome {
  readonly changed: boolean;
}

export class RelationWriter {
  private readonly now: () => number;

  constructor(private readonly d: RelationWriterDeps) {
    this.now = d.now ?? Date.now;
  }

  /** `from` follows `to` (ids already validated as user ids). */
  async follow(from: number, to: number, source: number): Promise<WriteOutcome> {
    if (from === to) throw invalidArgument("a user cannot follow themselves");
    if (!(await this.d.users.exists(to))) throw notFound(`user ${to} does not exist`);
    return this.write(from, to, "follow", source);
  }

  /** `from` stops following `to`; unfollowing someone not followed is a no-op success. */
  async unfollow(from: number, to: number): Promise<WriteOutcome> {
    if (from === to) throw invalidArgument("a user cannot unfollow themselves");
    // `source` is ignored by an unfollow (the script keeps the edge's own)
    return this.write(from, to, "unfollow", 0);
  }

  private async write(from: number, to: number, action: RelationAction, source: number): Promise<WriteOutcome> {
    const { cache, followingCap } = this.d;
    await this.d.drainer.admit(from, action);
    const r = await this.d.loader.withLoaded(from, async () => {
      // First the mark, then the decision: no transition is recorded unmarked.
      await this.d.pendingIndex.mark(from, this.now() + this.d.sweepAfterMs);
      return cache.applyTransition(from, to, action, this.now(), source, followingCap);
    });
    if (r.status === "noop") {
      relationMetrics.writes.inc({ action, outcome: "noop" });
      return { changed: false };
    }
    if (r.status === "cap_exceeded") {
      relationMetrics.writes.inc({ action, outcome: "cap_exceeded" });
      throw failedPrecondition(`following limit reached: a user may follow at most ${followingCap} users; unfollow someone first`);
    }
    try {
      await this.d.publisher.publish([r.transition]);
    } catch (err) {
      relationMetrics.writes.inc({ action, outcome: "publish_failed" });
      this.d.logger.warn({ err, from, to, action, version: r.version }, "publishing a transition failed; undoing it");
      await this.compensate(r.transition);
      throw unavailable(`the ${action} could not be recorded (event bus unavailable); nothing changed, retry later`);
    }
    relationMetrics.writes.inc({ action, outcome: "changed" });
    await runFanStep(this.d.fans, r.transition, this.d.logger);
    return { changed: true };
  }

  /** Undoes a transition whose publish failed and hands its queue to the drainer. */
  private async compensate(t: RelationTransition): Promise<void> {
    try {
      const undo = await this.d.cache.undoTransition(t.from, t.to, t.version, this.now());
      // The pair moved on already (a newer transition, or this one persisted):
      // nothing to undo, but the failed event must still go out (duplicates are harmless).
      if (undo.status === "noop") await this.d.cache.outbox.pushOutbox(t);
    } catch (err) {
      // Redis failed too: the transition stays pending without an event until
      // the pending sweeper republishes it (the user was marked before the decision).
      this.d.logger.error({ err, from: t.from, to: t.to, version: t.version }, "undoing an unpublished transition failed");
      return;
    }
    this.d.drainer.kick(t.from);
  }
}
