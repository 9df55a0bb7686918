/**
 * Outbox of undo transitions that still have to reach Kafka.
 *
 * Per user (`outbox:{A}`), not global: the undo script appends to it in the same
 * atomic step that records the undo, which is only possible for a key in A's
 * slot (on Redis Cluster a script cannot touch a global key beside A's keys).
 * So no undo can exist in Redis without its queued event, even if the process
 * dies right after. A global index (`outbox-index`, its own slot) lists users
 * with queued events for the background retrier; it is maintained in a second
 * command, and {@link RelationOutbox.rebuildOutboxIndex} recovers an entry lost
 * to a crash between the two. Publishing twice is harmless: the persister keeps
 * only versions newer than the row.
 */
import type { RedisClient } from "@rs/redis";
import type { TransitionOutbox } from "../../domain/ports.js";
import { decodeTransition, encodeTransition, isUserId, type RelationTransition } from "../../domain/relation-transition.js";
import type { RelationKeys } from "./relation-keys.js";
import type { RelationScripts } from "./relation-scripts.js";
import { replyInt } from "./script-replies.js";
import { forEachUserKey } from "./scan-user-keys.js";

export class RelationOutbox implements TransitionOutbox {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelationKeys,
    private readonly scripts: RelationScripts,
  ) {}

  /** Queues a transition of `t.from` for publishing (used when a publish failed outside an undo). */
  async pushOutbox(t: RelationTransition): Promise<void> {
    if (!isUserId(t.from) || !isUserId(t.to)) throw new RangeError("transition ids must be positive safe integers");
    await this.redis.rpush(this.keys.outbox(t.from), encodeTransition(t));
    await this.index(t.from);
  }

  /** Records that `userId` has queued events (NX: keeps the first enqueue time as the score). */
  async index(userId: number): Promise<void> {
    await this.redis.zadd(this.keys.outboxIndex(), "NX", Date.now(), String(userId));
  }

  /** The oldest `limit` queued transitions of `userId`, in publish order. */
  async peekOutbox(userId: number, limit: number): Promise<RelationTransition[]> {
    if (!Number.isInteger(limit) || limit <= 0) throw new RangeError(`limit must be a positive integer, got ${limit}`);
    const raw = await this.redis.lrange(this.keys.outbox(userId), 0, limit - 1);
    return raw.map(decodeTransition);
  }

  /**
   * Removes published transitions (by version) and returns how many remain;
   * drops the user from the index once the outbox is empty.
   */
  async ackOutbox(userId: number, versions: readonly number[]): Promise<number> {
    if (versions.length === 0) return this.redis.llen(this.keys.outbox(userId));
    const left = replyInt("ackOutbox", await this.scripts.run("ackOutbox", [this.keys.outbox(userId)], versions.map(String)));
    if (left === 0) {
      await this.redis.zrem(this.keys.outboxIndex(), String(userId));
      // an undo may have queued an event between the two commands: put the user back
      if ((await this.redis.llen(this.keys.outbox(userId))) > 0) await this.index(userId);
    }
    return left;
  }

  /**
   * Takes A's outbox lease for `ttlMs` unless another owner holds it. Only the
   * holder publishes A's queue, so two instances never send the same entries.
   */
  async tryLock(userId: number, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.outboxLock(userId), owner, "PX", ttlMs, "NX")) === "OK";
  }

  /** Gives the lease back if `owner` still holds it. */
  async unlock(userId: number, owner: string): Promise<void> {
    await this.scripts.run("releaseLock", [this.keys.outboxLock(userId)], [owner]);
  }

  /** Drops `userId` from the index when its outbox is empty (after someone else drained it). */
  async unindexIfEmpty(userId: number): Promise<void> {
    if ((await this.redis.llen(this.keys.outbox(userId))) > 0) return;
    await this.redis.zrem(this.keys.outboxIndex(), String(userId));
    // an undo may have queued an event between the two commands: put the user back
    if ((await this.redis.llen(this.keys.outbox(userId))) > 0) await this.index(userId);
  }

  /** Users with queued transitions, longest waiting first. */
  async outboxUsers(limit: number): Promise<number[]> {
    const ids = await this.redis.zrange(this.keys.outboxIndex(), 0, limit - 1);
    return ids.map(Number);
  }

  /**
   * Re-indexes every non-empty outbox (SCAN over this prefix). For a retrier's
   * start-up; on Redis Cluster run it against each master.
   */
  async rebuildOutboxIndex(): Promise<number> {
    return forEachUserKey(this.redis, `${this.keys.prefix}outbox:{*}`, async (id, key) => {
      if ((await this.redis.llen(key)) === 0) return false;
      await this.index(id);
      return true;
    });
  }
}
