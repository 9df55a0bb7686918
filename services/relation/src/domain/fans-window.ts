/**
 * B's fans, newest first: from the fans:{B} window (the newest N, loaded from
 * the shard on a miss, one load per user at a time), continued in B's `fans`
 * shard with the same keyset cursor once a page runs past the window.
 *
 * A viral user's first page (no cursor) is asked for by everyone who opens
 * their fans list: when `hot` is given, the first pages of hot users (asked for
 * `minHits` times in 10 s) are kept in process for `ttlMs` (1 s), the
 * staleness bound; a follow or unfollow of B through this process drops B's
 * kept page at once ({@link forget}), one through another instance is seen when
 * the TTL ends (docs/adr/0018-hot-profiles-in-process.md). The same goes for
 * what a big account's deeper pages need besides the page itself: the
 * persisted follower count that totals the list, and the window's floor. A
 * page whose cursor is at or below a kept floor is the shard's alone and goes
 * there without asking the window (the floor only rises while the window
 * lives; a window loaded again may start lower, and the entries between are
 * then read from the shard, as persisted, for at most the TTL).
 */
import { hotKeyCache, Singleflight, type HotKeyCache, type HotKeySettings } from "@rs/cache";
import { unavailable } from "@rs/errors";
import { relationMetrics } from "../relation.metrics.js";
import { compareNewestFirst, type CursorPosition } from "./cursor.js";
import type { FansWindowCache, RelationStore } from "./ports.js";

/** What the pages of a list past its window need besides the page itself, kept for a hot user. */
interface PastWindow {
  /** The newest fan the window does not know. */
  readonly floor: CursorPosition;
  /** How many fans the window held. */
  readonly cachedCount: number;
  /** B's persisted follower count. */
  readonly count: number;
}

/** One page of a newest-first list, with the list's size. */
export interface ListPage {
  readonly items: readonly CursorPosition[];
  /** Position of the last item when a further page may follow. */
  readonly next: CursorPosition | undefined;
  readonly total: number;
}

const hit = relationMetrics.cacheLookups.labels("fans", "hit");
const miss = relationMetrics.cacheLookups.labels("fans", "miss");
const hotHit = relationMetrics.cacheLookups.labels("hot_fans_page", "hit");
const hotMiss = relationMetrics.cacheLookups.labels("hot_fans_page", "miss");

export class FansWindow {
  private readonly flights = new Singleflight<number, void>();
  /** B → its first page at the page size it was last asked for. */
  private readonly hot: HotKeyCache<{ readonly limit: number; readonly page: ListPage }, number> | undefined;
  /** B → what the pages of a hot user's list past its window need besides the page: floor, window size and persisted count. */
  private readonly hotPast: HotKeyCache<PastWindow, number> | undefined;

  constructor(
    private readonly fans: FansWindowCache,
    private readonly store: RelationStore,
    private readonly attempts: number,
    hot?: HotKeySettings,
  ) {
    this.hot = hot && hotKeyCache<{ readonly limit: number; readonly page: ListPage }, number>(hot);
    this.hotPast = hot && hotKeyCache<PastWindow, number>(hot);
  }

  /** Drops B's kept first page, floor and count (B's fans just changed through this process). */
  forget(b: number): void {
    this.hot?.invalidate(b);
    this.hotPast?.invalidate(b);
  }

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
    if (cursor !== undefined || !this.hot) return this.read(b, cursor, limit);
    const kept = this.hot.lookup(b);
    if (kept && kept.limit === limit) {
      hotHit.inc();
      return kept.page;
    }
    hotMiss.inc();
    const page = await this.read(b, undefined, limit);
    this.hot.offer(b, { limit, page });
    return page;
  }

  private async read(b: number, cursor: CursorPosition | undefined, limit: number): Promise<ListPage> {
    const kept = cursor && this.hotPast?.lookup(b);
    // at or below the floor: nothing of the window comes after the cursor
    if (kept && compareNewestFirst(cursor, kept.floor) >= 0) return this.fromShard(b, [], cursor, limit, kept.cachedCount, kept.count);
    for (let attempt = 0; attempt <= this.attempts; attempt++) {
      const r = await this.fans.fansPage(b, cursor, limit);
      if (r.status === "not_loaded") {
        if (attempt < this.attempts) await this.ensure(b);
        continue;
      }
      (attempt === 0 ? hit : miss).inc();
      if (r.complete) return { items: r.items, next: r.next, total: r.cachedCount };
      const { floor, cachedCount } = r;
      const count =
        kept?.count ??
        this.store.followerCount(b).then((n) => {
          this.hotPast?.offer(b, { floor, cachedCount, count: n });
          return n;
        });
      if (r.next) return { items: r.items, next: r.next, total: Math.max(cachedCount, await count) };
      return this.fromShard(b, r.items, cursor, limit, cachedCount, count);
    }
    throw unavailable(`the fans of user ${b} could not be loaded; retry`);
  }

  /**
   * The window ran out before the page was full (or exactly at its end, or the
   * cursor was at or below its floor): the rest lies at or below the floor, in
   * the shard, after the last item; read with the count, both on B's shard, at once.
   */
  private async fromShard(
    b: number,
    items: readonly CursorPosition[],
    cursor: CursorPosition | undefined,
    limit: number,
    cachedCount: number,
    count: number | Promise<number>,
  ): Promise<ListPage> {
    const need = limit - items.length;
    const from = items[items.length - 1] ?? cursor;
    const [persisted, more] = await Promise.all([count, this.store.fansAfter(b, from, need + 1)]);
    const total = Math.max(cachedCount, persisted);
    const page = [...items, ...more.slice(0, need)];
    const last = page[page.length - 1];
    return { items: page, next: more.length > need && last ? { timeMs: last.timeMs, id: last.id } : undefined, total };
  }
}
