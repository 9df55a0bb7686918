/**
 * B's fans, newest first: from the fans:{B} window (the newest N, loaded from
 * the shard on a miss, one load per user at a time), continued in B's `fans`
 * shard with the same keyset cursor once a page runs past the window.
 */
import { Singleflight } from "@rs/cache";
import { unavailable } from "@rs/errors";
import { relationMetrics } from "../relation.metrics.js";
import type { CursorPosition } from "./cursor.js";
import type { FansWindowCache, RelationStore } from "./ports.js";

/** One page of a newest-first list, with the list's size. */
export interface ListPage {
  readonly items: readonly CursorPosition[];
  /** Position of the last item when a further page may follow. */
  readonly next: CursorPosition | undefined;
  readonly total: number;
}

const hit = relationMetrics.cacheLookups.labels("fans", "hit");
const miss = relationMetrics.cacheLookups.labels("fans", "miss");

export class FansWindow {
  private readonly flights = new Singleflight<number, void>();

  constructor(
    private readonly fans: FansWindowCache,
    private readonly store: RelationStore,
    private readonly attempts: number,
  ) {}

  /** Loads fans:{B} from the shard unless loaded (concurrent callers for B share one load). */
  ensure(b: number): Promise<void> {
    return this.flights.do(b, async () => {
      // one row beyond the window tells the script that B has more fans than it keeps
      const rows = await this.store.newestFans(b, this.fans.windowSize + 1);
      await this.fans.load(b, rows);
    });
  }

  /** B's fans strictly after `cursor`, `limit` at most. */
  async page(b: number, cursor: CursorPosition | undefined, limit: number): Promise<ListPage> {
    for (let attempt = 0; attempt <= this.attempts; attempt++) {
      const r = await this.fans.fansPage(b, cursor, limit);
      if (r.status === "not_loaded") {
        if (attempt < this.attempts) await this.ensure(b);
        continue;
      }
      (attempt === 0 ? hit : miss).inc();
      if (r.complete) return { items: r.items, next: r.next, total: r.cachedCount };
      if (r.next) return { items: r.items, next: r.next, total: Math.max(r.cachedCount, await this.store.followerCount(b)) };
      // The window ran out before the page was full (or exactly at its end): the
      // rest lies at or below the window's floor, in the shard, after the last
      // item; read with the count, both on B's shard, at once.
      const need = limit - r.items.length;
      const from = r.items[r.items.length - 1] ?? cursor;
      const [count, more] = await Promise.all([this.store.followerCount(b), this.store.fansAfter(b, from, need + 1)]);
      const total = Math.max(r.cachedCount, count);
      const items = [...r.items, ...more.slice(0, need)];
      const last = items[items.length - 1];
      return { items, next: more.length > need && last ? { timeMs: last.timeMs, id: last.id } : undefined, total };
    }
    throw unavailable(`the fans of user ${b} could not be loaded; retry`);
  }
}
