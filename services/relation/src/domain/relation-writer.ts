/**
 * Follow and unfollow (docs/design.md §5): decide in Redis, publish, answer.
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
import { boundByCallDeadline, type Logger } from "@rs/logger";
import { relationMetrics } from "../relation.metrics.js";
import type { FollowingLoader } from "./following-loader.js";
import { entryBirthMs } from "./pending-sweeper.js";

/** Decisions one request makes at most when concurrent requests keep undoing the transition it waited for. */
const JOIN_ATTEMPTS = 3;
/** How often a request polls a transition another instance is publishing. */
const IN_FLIGHT_POLL_MS = 25;
/** Slack for the clocks of Redis (versions) and of this process. */
const CLOCK_MARGIN_MS = 1_000;
/** Time kept, inside a call's deadline, for the undo and the answer after a publish gave up. */
const PUBLISH_RESERVE_MS = 300;
/** Default of {@link RelationWriterDeps.publishDeadlineMs}. */
export const DEFAULT_PUBLISH_DEADLINE_MS = 1_500;

const inFlightKey = (from: number, to: number, version: number) => `${from}:${to}:${version}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
import { runFanStep, type OutboxDrainer } from "./outbox-drainer.js";
import type { FanSteps, FollowingCache, PendingIndexPort, TransitionOutbox, TransitionPublisher, UserDirectory } from "./ports.js";
import type { RelationAction, RelationTransition } from "./relation-transition.js";

export interface RelationWriterDeps {
  readonly cache: FollowingCache;
  readonly fans: FanSteps;
  /** Where a failed transition goes when its undo found nothing to undo. */
  readonly outbox: Pick<TransitionOutbox, "pushOutbox">;
  readonly loader: FollowingLoader;
  readonly users: UserDirectory;
  /** Kept first fans pages of hot users, dropped when their fans change here. */
  readonly fansPages?: { forget(b: number): void };
  readonly publisher: TransitionPublisher;
  readonly drainer: Pick<OutboxDrainer, "admit" | "kick">;
  /** Marked before each decision; the sweeper looks at the user once the mark is due. */
  readonly pendingIndex: Pick<PendingIndexPort, "mark">;
  /** How long after a decision the sweeper may consider its event lost. */
  readonly sweepAfterMs: number;
  /** Longest wait for Kafka's ack of a transition; past it the transition is undone (default 1.5 s). */
  readonly publishDeadlineMs?: number;
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
  private readonly publishDeadlineMs: number;
  /** Publishes of this process in flight, by transition: resolve to whether Kafka acknowledged. */
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(private readonly d: RelationWriterDeps) {
    this.now = d.now ?? Date.now;
    this.publishDeadlineMs = d.publishDeadlineMs ?? DEFAULT_PUBLISH_DEADLINE_MS;
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
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.writeOnce(from, to, action, source);
      if (outcome !== "retry") return outcome;
      if (attempt >= JOIN_ATTEMPTS) throw unavailable(`the ${action} of ${from}→${to} keeps being changed by concurrent requests; retry`);
    }
  }

  private async writeOnce(from: number, to: number, action: RelationAction, source: number): Promise<WriteOutcome | "retry"> {
    const { cache, followingCap } = this.d;
    await this.d.drainer.admit(from, action);
    const r = await this.d.loader.withLoaded(from, async () => {
      // First the mark, then the decision: no transition is recorded unmarked.
      await this.d.pendingIndex.mark(from, this.now() + this.d.sweepAfterMs);
      return cache.applyTransition(from, to, action, this.now(), source, followingCap);
    });
    if (r.status === "noop") {
      if ((await this.awaitInFlight(from, to, action)) === "retry") return "retry";
      relationMetrics.writes.inc({ action, outcome: "noop" });
      return { changed: false };
    }
    if (r.status === "cap_exceeded") {
      relationMetrics.writes.inc({ action, outcome: "cap_exceeded" });
      throw failedPrecondition(`following limit reached: a user may follow at most ${followingCap} users; unfollow someone first`);
    }
    try {
      await this.publishWithin(r.transition);
    } catch (err) {
      relationMetrics.writes.inc({ action, outcome: "publish_failed" });
      this.d.logger.warn({ err, from, to, action, version: r.version }, "publishing a transition failed; undoing it");
      await this.compensate(r.transition);
      throw unavailable(`the ${action} could not be recorded (event bus unavailable); nothing changed, retry later`);
    }
    relationMetrics.writes.inc({ action, outcome: "changed" });
    // both users' counts change: a profile this process keeps of either is now behind
    this.d.users.forget?.([from, to]);
    this.d.fansPages?.forget(to);
    await runFanStep(this.d.fans, r.transition, this.d.logger);
    return { changed: true };
  }

  /**
   * A no-op may rest on a transition another request decided a moment ago and
   * is still publishing: if that publish fails, the transition is undone, and
   * "already so" would have been a wrong answer. So the request waits for the
   * outcome: the publish in this process (its promise), or, for one in another
   * instance, until its publisher notes Kafka's ack (`p:<to>` in meta:{A}) or
   * the publish deadline has passed for it. Acknowledged, persisted, queued in
   * the outbox (an undo, which is never undone), or still there after the
   * deadline (its publisher died: the sweeper sends it): it stands. Replaced
   * (undone, or changed by yet another request): decide again. Our caller's
   * deadline comes first: unsettled by then, the answer is UNAVAILABLE.
   * See docs/adr/0015-no-op-waits-for-in-flight-publish.md.
   */
  private async awaitInFlight(from: number, to: number, action: RelationAction): Promise<"done" | "retry"> {
    const first = await this.d.cache.inFlightState(from, to);
    const e = first.entry;
    if (!e || e.action !== action || first.queued || first.publishedVersion === e.version) return "done";
    const local = this.inFlight.get(inFlightKey(from, to, e.version));
    if (local) return (await local) ? "done" : "retry";
    // until the publish deadline has passed for it, but never past our caller's deadline
    const settledBy = Math.min(
      entryBirthMs(e) + this.publishDeadlineMs + CLOCK_MARGIN_MS,
      this.now() + boundByCallDeadline(Number.MAX_SAFE_INTEGER, PUBLISH_RESERVE_MS),
    );
    while (this.now() < settledBy) {
      await sleep(IN_FLIGHT_POLL_MS);
      const cur = await this.d.cache.inFlightState(from, to);
      if (!cur.entry || cur.queued || cur.publishedVersion === e.version) return "done";
      if (cur.entry.version !== e.version) return "retry";
    }
    if (this.now() < entryBirthMs(e) + this.publishDeadlineMs + CLOCK_MARGIN_MS) {
      throw unavailable(`the ${action} could not be confirmed in time (a concurrent change of it is still being published); retry`);
    }
    return "done";
  }

  /**
   * Publishes within the publish deadline; past it the publish counts as
   * failed (it may still land: the undo that follows has a newer version and
   * wins). Other requests of this process waiting on the transition learn
   * the outcome from {@link inFlight}.
   */
  private async publishWithin(t: RelationTransition): Promise<void> {
    const key = inFlightKey(t.from, t.to, t.version);
    // within the caller's deadline too, leaving time to undo and answer
    const deadlineMs = boundByCallDeadline(this.publishDeadlineMs, PUBLISH_RESERVE_MS);
    let settle!: (ok: boolean) => void;
    this.inFlight.set(key, new Promise<boolean>((resolve) => (settle = resolve)));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`publish not acknowledged within ${deadlineMs} ms`)), deadlineMs);
    });
    const publish = this.d.publisher.publish([t]);
    publish.catch(() => undefined); // its late failure after the deadline is already handled
    try {
      await Promise.race([publish, deadline]);
      settle(true);
      // for waiting requests of other instances; one command, not awaited by the answer
      this.d.cache.markPublished(t.from, t.to, t.version).catch((err: unknown) => this.d.logger.debug({ err }, "noting a publish failed"));
    } catch (err) {
      settle(false);
      throw err;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(key);
    }
  }

  /** Undoes a transition whose publish failed and hands its queue to the drainer. */
  private async compensate(t: RelationTransition): Promise<void> {
    try {
      const undo = await this.d.cache.undoTransition(t.from, t.to, t.version, this.now());
      // The pair moved on already (a newer transition, or this one persisted):
      // nothing to undo, but the failed event must still go out (duplicates are harmless).
      if (undo.status === "noop") await this.d.outbox.pushOutbox(t);
    } catch (err) {
      // Redis failed too: the transition stays pending without an event until
      // the pending sweeper republishes it (the user was marked before the decision).
      this.d.logger.error({ err, from: t.from, to: t.to, version: t.version }, "undoing an unpublished transition failed");
      return;
    }
    this.d.drainer.kick(t.from);
  }
}
