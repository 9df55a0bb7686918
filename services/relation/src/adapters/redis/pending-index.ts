/**
 * The pending index: which users may hold a pending transition that has no
 * event yet, and when to look at them. Closes the window between the Lua
 * decision and the publish: a reply lost to a Redis stall, a relation process
 * that dies before publishing, an undo that failed too.
 *
 * - The writer marks A (`ZADD`, score = now + the sweep delay) right before each
 *   decision script, so no transition is recorded without a mark.
 * - The sweeper claims due users atomically (their score moves to the end of a
 *   lease, a value no mark can equal), looks at `pending:{A}`, and settles each
 *   user by compare-and-set: drop it (nothing pending), or schedule the next
 *   look. A writer that marked A meanwhile wins, so a decision that lands after
 *   the sweeper looked keeps A in the index.
 *
 * One key, its own slot: on Redis Cluster each command touches only it.
 *
 * Redis runs with zset-max-listpack-entries 8192 (for big following lists,
 * docs/adr/0019-compact-following-lists.md), which would make this index a
 * listpack up to 8 192 users, where each mark's ZADD scans it (61 µs at 5 000
 * against 1 µs). A mark therefore also adds {@link SKIPLIST_PIN}, a member longer
 * than zset-max-listpack-value, first (so a new key is created a skiplist and an
 * existing listpack converts); its score +inf is never due and `size` leaves it out.
 */
import type { RedisClient } from "@rs/redis";
import type { PendingClaim, PendingIndexPort } from "../../domain/ports.js";
import { isUserId } from "../../domain/relation-transition.js";
import type { RelationScripts } from "./relation-scripts.js";
import type { RelationKeys } from "./relation-keys.js";
import { replyInt, UnexpectedReplyError } from "./script-replies.js";
import { forEachUserKey } from "./scan-user-keys.js";

export type { PendingClaim };

/** Member that keeps the index a skiplist (longer than Redis's zset-max-listpack-value, 64); never a user id. */
export const SKIPLIST_PIN = "~pin:keeps-this-index-a-skiplist-not-a-listpack-scanned-on-every-update~";

export class PendingIndex implements PendingIndexPort {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelationKeys,
    private readonly scripts: RelationScripts,
  ) {}

  /** Marks A to be looked at from `dueAtMs` on (replaces any earlier schedule). */
  async mark(a: number, dueAtMs: number): Promise<void> {
    await this.redis.zadd(this.keys.pendingIndex(), "+inf", SKIPLIST_PIN, Math.floor(dueAtMs), String(a));
  }

  /** Claims at most `limit` users due by `nowMs` for `leaseMs`. */
  async claimDue(nowMs: number, leaseMs: number, limit: number): Promise<PendingClaim> {
    const claimScore = `${Math.floor(nowMs + leaseMs)}.5`;
    const reply = await this.scripts.run("pendingClaim", [this.keys.pendingIndex()], [Math.floor(nowMs), claimScore, limit]);
    // an empty claim is an empty array, which replyArray refuses
    if (!Array.isArray(reply)) throw new UnexpectedReplyError("pendingClaim", reply);
    const users = reply.map(Number).filter(isUserId);
    return { users, claimScore };
  }

  /** After a look at A: schedule the next one at `nextDueMs`, or drop A (`undefined`), unless a writer marked A since. */
  async settle(a: number, claimScore: string, nextDueMs: number | undefined): Promise<boolean> {
    const next = nextDueMs === undefined ? "" : Math.floor(nextDueMs);
    return replyInt("pendingSettle", await this.scripts.run("pendingSettle", [this.keys.pendingIndex()], [a, claimScore, next])) === 1;
  }

  /** Users in the index (a gauge of the sweeper's backlog). */
  async size(): Promise<number> {
    const [n, pin] = await Promise.all([this.redis.zcard(this.keys.pendingIndex()), this.redis.zscore(this.keys.pendingIndex(), SKIPLIST_PIN)]);
    return pin === null ? n : n - 1;
  }

  /**
   * Marks every user with a non-empty pending overlay as due now: pending
   * entries written before the index existed, or whose mark was lost with a
   * Redis restart. SCAN is per node: on a cluster, run it against each master.
   */
  async rebuild(nowMs: number): Promise<number> {
    return forEachUserKey(this.redis, `${this.keys.prefix}pending:{*}`, async (id) => {
      // NX: a user already scheduled keeps its schedule
      await this.redis.zadd(this.keys.pendingIndex(), "NX", Math.floor(nowMs), String(id));
      return true;
    });
  }
}
