/**
 * Loading following:{A} on a miss: the shard's rows plus the pending overlay,
 * one load per user at a time in this process (singleflight), and the retry
 * when the key was evicted again between the load and its use.
 */
import { Singleflight } from "@rs/cache";
import { unavailable } from "@rs/errors";
import { CacheLoadContendedError, type RelationCache } from "../adapters/redis/relation-cache.js";
import type { NotLoaded } from "../adapters/redis/following-reads.js";
import { relationMetrics } from "../relation.metrics.js";
import type { RelationStore } from "./ports.js";

// bound once: label lookups on every read cost more than the increment
const hit = relationMetrics.cacheLookups.labels("following", "hit");
const miss = relationMetrics.cacheLookups.labels("following", "miss");

export class FollowingLoader {
  private readonly flights = new Singleflight<number, void>();

  constructor(
    private readonly cache: RelationCache,
    private readonly store: RelationStore,
    /** Loads per request before giving up with UNAVAILABLE. */
    private readonly attempts: number,
  ) {}

  /** Makes sure following:{A} is loaded (concurrent callers for A share one load). */
  ensure(a: number): Promise<void> {
    return this.flights.do(a, async () => {
      try {
        await this.cache.ensureLoaded(a, () => this.store.followingSnapshot(a));
      } catch (err) {
        if (err instanceof CacheLoadContendedError) throw unavailable(`the follows of user ${a} are being rewritten; retry`);
        throw err;
      }
    });
  }

  /**
   * Runs `op` over following:{A}; when it answers `not_loaded`, loads A and
   * runs it again, at most `attempts` times.
   */
  async withLoaded<T extends { readonly status: string }>(a: number, op: () => Promise<T | NotLoaded>): Promise<Exclude<T, NotLoaded>> {
    for (let attempt = 0; attempt <= this.attempts; attempt++) {
      const r = await op();
      if (r.status !== "not_loaded") {
        (attempt === 0 ? hit : miss).inc();
        return r as Exclude<T, NotLoaded>;
      }
      if (attempt < this.attempts) await this.ensure(a);
    }
    throw unavailable(`the follows of user ${a} could not be loaded; retry`);
  }
}
