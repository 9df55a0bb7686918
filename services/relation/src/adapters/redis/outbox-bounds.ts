/**
 * The bound of the outboxes (relation-outbox.ts). Every write whose publish
 * fails queues up to two entries in its user's outbox (the failed transition
 * and its undo) until Kafka takes them again, so in an outage they would grow
 * with every retry of every user. Before a write is decided, its user's
 * outbox and the number of users with one are checked; at the bound the write
 * is refused (the caller answers UNAVAILABLE) without touching Redis, rather
 * than decided, failed and queued. Writes are being refused anyway while the
 * outboxes fill (their publishes fail), so the bound costs no availability;
 * it caps the memory at about `maxUsers × maxEntriesPerUser` entries.
 *
 * The check reads two keys in different slots (two commands sent together,
 * one round trip) and is not atomic with the write that follows, so
 * concurrent writes may overshoot a bound by their number; the per-user
 * overshoot is at most that user's concurrent writes.
 */
import type { RedisClient } from "@rs/redis";
import { OutboxFullError, type OutboxRoom } from "../../domain/ports.js";
import type { RelationKeys } from "./relation-keys.js";

/** Entries one failed write adds to its user's outbox at most (the failed transition and its undo). */
export const ENTRIES_PER_FAILED_WRITE = 2;

export interface OutboxLimits {
  /** Users with a non-empty outbox beyond which users without one may not write. */
  readonly maxUsers: number;
  /** Entries one user's outbox may hold; a write that could exceed it is refused. */
  readonly maxEntriesPerUser: number;
}

export { OutboxFullError };

export class OutboxBounds implements OutboxRoom {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelationKeys,
    readonly limits: OutboxLimits,
  ) {
    for (const [name, v] of Object.entries(limits)) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
    if (limits.maxEntriesPerUser < ENTRIES_PER_FAILED_WRITE) throw new RangeError(`maxEntriesPerUser must be at least ${ENTRIES_PER_FAILED_WRITE}`);
  }

  /** Resolves when a failed write of `userId` could still be queued; rejects with {@link OutboxFullError} otherwise. */
  async checkRoom(userId: number): Promise<void> {
    const [entries, users] = await Promise.all([this.redis.llen(this.keys.outbox(userId)), this.redis.zcard(this.keys.outboxIndex())]);
    if (entries + ENTRIES_PER_FAILED_WRITE > this.limits.maxEntriesPerUser) throw new OutboxFullError("user", this.limits.maxEntriesPerUser);
    // a user already queued may go on up to its own bound; a new one would add a user
    if (entries === 0 && users >= this.limits.maxUsers) throw new OutboxFullError("users", this.limits.maxUsers);
  }
}
