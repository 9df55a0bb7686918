/**
 * Loading following:{A} on a miss: the shard's rows plus the pending overlay,
 * one load per user at a time in this process (singleflight), and the retry
 * when the key was evicted again between the load and its use.
 *
 * Both retries (a load read again while the persister clears A's pending
 * entries, a load again after the key was evicted before use) draw on one
 * budget: at most `maxShardReads` shard reads per cached list a request needs
 * (`LOAD_SHARD_READS`), then UNAVAILABLE.
 */
import { Singleflight } from "@rs/cache";
import { unavailable } from "@rs/errors";
import { relationMetrics } from "../relation.metrics.js";
import { CacheLoadContendedError, type FollowingCache, type NotLoaded, type RelationStore } from "./ports.js";

// bound once: label lookups on every read cost more than the increment
const hit = relationMetrics.cacheLookups.labels("following", "hit");
const miss = relationMetrics.cacheLookups.labels("following", "miss");

export class FollowingLoader {
  private readonly flights = new Singleflight<number, number>();

  constructor(
    private readonly cache: FollowingCache,
    private readonly store: RelationStore,
    /** Shard reads one request may make to load following:{A} before giving up with UNAVAILABLE (`LOAD_SHARD_READS`). */
    private readonly maxShardReads: number,
  ) {
    if (!Number.isSafeInteger(maxShardReads) || maxShardReads < 1) throw new RangeError(`maxShardReads must be a positive integer, got ${maxShardReads}`);
  }

  /**
   * Makes sure following:{A} is loaded, reading the shard at most `maxReads`
   * times (concurrent callers for A share one load); resolves to the reads made.
   */
  ensure(a: number, maxReads: number = this.maxShardReads): Promise<number> {
    return this.flights.do(a, async () => {
      try {
        return (await this.cache.ensureLoaded(a, () => this.store.followingSnapshot(a), maxReads)).attempts;
      } catch (err) {
        if (err instanceof CacheLoadContendedError) throw unavailable(`the follows of user ${a} are being rewritten; retry`);
        throw err;
      }
    });
  }

  /**
   * Runs `op` over following:{A}; when it answers `not_loaded`, loads A and
   * runs it again, while the request's shard reads last.
   */
  async withLoaded<T extends { readonly status: string }>(a: number, op: () => Promise<T | NotLoaded>): Promise<Exclude<T, NotLoaded>> {
    let readsLeft = this.maxShardReads;
    for (let attempt = 0; ; attempt++) {
      const r = await op();
      if (r.status !== "not_loaded") {
        (attempt === 0 ? hit : miss).inc();
        return r as Exclude<T, NotLoaded>;
      }
      if (readsLeft <= 0) break;
      // a load that found the key loaded by someone else costs one read too, so the loop always ends
      readsLeft -= Math.max(1, await this.ensure(a, readsLeft));
    }
    throw unavailable(`the follows of user ${a} could not be loaded; retry`);
  }
}
