/**
 * How a fans page joins the fans:{B} window and the fans shard (unit: both
 * stand-ins hold one newest-first list; the window holds its first N entries).
 */
import { describe, expect, it } from "vitest";
import { compareNewestFirst, isAfterCursor, type CursorPosition } from "../src/domain/cursor.js";
import { FansWindow } from "../src/domain/fans-window.js";
import type { FansPageResult, FansWindowCache, RelationStore } from "../src/domain/ports.js";

function fixture(all: CursorPosition[], windowSize: number, opts: { persistedCount?: number } = {}) {
  const sorted = [...all].sort(compareNewestFirst);
  const window = sorted.slice(0, windowSize);
  const complete = sorted.length <= windowSize;
  let loaded = false;
  const shardQueries: number[] = [];
  const fans = {
    windowSize,
    async fansPage(_b: number, cursor: CursorPosition | undefined, limit: number): Promise<FansPageResult> {
      if (!loaded) return { status: "not_loaded" };
      const after = cursor ? window.filter((x) => isAfterCursor(x, cursor)) : window;
      const items = after.slice(0, limit);
      const last = items[items.length - 1];
      const state = complete ? { complete: true as const } : { complete: false as const, floor: sorted[windowSize]! };
      return { status: "ok", items, next: after.length > limit && last ? last : undefined, cachedCount: window.length, ...state };
    },
    async load() {
      loaded = true;
      return { status: "loaded", count: window.length, complete };
    },
  } as unknown as FansWindowCache;
  const store = {
    async newestFans() {
      return [];
    },
    async fansAfter(_b: number, cursor: CursorPosition | undefined, limit: number) {
      shardQueries.push(limit);
      return (cursor ? sorted.filter((x) => isAfterCursor(x, cursor)) : sorted).slice(0, limit);
    },
    async followerCount() {
      return opts.persistedCount ?? sorted.length;
    },
  } as unknown as RelationStore;
  return { window: new FansWindow(fans, store, 2), sorted, shardQueries };
}

async function pageAll(w: FansWindow, limit: number) {
  const out: CursorPosition[] = [];
  let cursor: CursorPosition | undefined;
  for (let i = 0; i < 1000; i++) {
    const p = await w.page(1, cursor, limit);
    out.push(...p.items);
    if (!p.next) return out;
    cursor = p.next;
  }
  throw new Error("no end");
}

const list = (n: number) => Array.from({ length: n }, (_, i) => ({ id: 100 + i, timeMs: 1_000 + Math.floor(i / 4) }));

describe("FansWindow.page", () => {
  it("loads on a miss, and serves a complete window alone with its size as total", async () => {
    const f = fixture(list(8), 10);
    const p = await f.window.page(1, undefined, 5);
    expect(p.total).toBe(8);
    expect(await pageAll(f.window, 3)).toEqual(f.sorted);
    expect(f.shardQueries).toEqual([]);
  });

  it.each([1, 3, 5, 7, 10, 11])("continues in the shard past a partial window without repeats or gaps (limit %i)", async (limit) => {
    const f = fixture(list(37), 10);
    expect(await pageAll(f.window, limit)).toEqual(f.sorted);
    expect(f.shardQueries.length).toBeGreaterThan(0);
  });

  it("a page that ends exactly at the window's end still offers the next page", async () => {
    const f = fixture(list(12), 10);
    const p = await f.window.page(1, undefined, 10);
    expect(p.items).toHaveLength(10);
    expect(p.next).toEqual(f.sorted[9]);
    const q = await f.window.page(1, p.next, 10);
    expect(q.items).toEqual(f.sorted.slice(10));
    expect(q.next).toBeUndefined();
  });

  it("reports the persisted follower count for a partial window (never less than the window holds)", async () => {
    expect((await fixture(list(37), 10).window.page(1, undefined, 3)).total).toBe(37);
    expect((await fixture(list(37), 10, { persistedCount: 4 }).window.page(1, undefined, 3)).total).toBe(10);
  });
});

describe("FansWindow: a hot user's first page", () => {
  it("is kept for at most the TTL once hot, only for the page size asked, and dropped by forget", async () => {
    let t = 1_000_000;
    const all = list(10);
    const reads: number[] = [];
    const hotWindow = new FansWindow(
      {
        windowSize: 50,
        fansPage: async (_b: number, _cursor: CursorPosition | undefined, limit: number) => {
          reads.push(limit);
          return { status: "ok", items: all.slice(0, limit), next: undefined, complete: true, cachedCount: all.length };
        },
        load: async () => ({ status: "loaded", count: all.length, complete: true }),
      } as unknown as FansWindowCache,
      {} as RelationStore,
      2,
      { size: 10, ttlMs: 500, minHits: 2, now: () => t },
    );
    for (let i = 0; i < 5; i++) expect((await hotWindow.page(7, undefined, 5)).items).toHaveLength(5);
    expect(reads).toEqual([5, 5]); // read until hot (2 asks), then kept
    await hotWindow.page(7, undefined, 3); // another page size: read
    expect(reads).toEqual([5, 5, 3]);
    await hotWindow.page(7, { timeMs: 1_000, id: 101 }, 5); // a later page: never kept
    expect(reads).toEqual([5, 5, 3, 5]);
    await hotWindow.page(7, undefined, 3);
    expect(reads).toHaveLength(4);
    hotWindow.forget(7);
    await hotWindow.page(7, undefined, 3);
    expect(reads).toHaveLength(5);
    t += 501;
    await hotWindow.page(7, undefined, 3);
    expect(reads).toHaveLength(6);
  });
});

/** A hot user's list past its window: 40 fans, the newest 10 in the window (floor: the 11th), the rest in the shard; counts each call. */
function pastWindowFixture(now: () => number) {
  const sorted = [...list(40)].sort(compareNewestFirst);
  const window = sorted.slice(0, 10);
  const floor = sorted[10]!;
  const calls = { window: [] as (CursorPosition | undefined)[], shard: [] as CursorPosition[], counted: [] as number[] };
  let persisted = 40;
  const hotWindow = new FansWindow(
    {
      windowSize: 10,
      fansPage: async (_b: number, cursor: CursorPosition | undefined, limit: number) => {
        calls.window.push(cursor);
        const after = cursor ? window.filter((x) => isAfterCursor(x, cursor)) : window;
        const items = after.slice(0, limit);
        return { status: "ok", items, next: after.length > limit ? items[items.length - 1] : undefined, complete: false, cachedCount: window.length, floor };
      },
      load: async () => ({ status: "loaded", count: window.length, complete: false }),
    } as unknown as FansWindowCache,
    {
      followerCount: async (b: number) => {
        calls.counted.push(b);
        return persisted;
      },
      fansAfter: async (_b: number, cursor: CursorPosition, limit: number) => {
        calls.shard.push(cursor);
        return sorted.filter((x) => isAfterCursor(x, cursor)).slice(0, limit);
      },
    } as unknown as RelationStore,
    2,
    { size: 10, ttlMs: 500, minHits: 2, now },
  );
  return { hotWindow, sorted, floor, calls, setPersisted: (n: number) => void (persisted = n) };
}

describe("FansWindow: a hot user's deeper pages", () => {
  it("total their list with the persisted count kept for at most the TTL once hot; the pages themselves are always read", async () => {
    let t = 1_000_000;
    const { hotWindow, sorted, calls, setPersisted } = pastWindowFixture(() => t);
    const counted = calls.counted;
    const shardReads = calls.shard;
    const deep = sorted[19]!; // past the window: from the shard
    for (let i = 0; i < 5; i++) expect(await hotWindow.page(7, deep, 5)).toMatchObject({ items: sorted.slice(20, 25), total: 40 });
    expect(counted).toEqual([7, 7]); // read until hot (2 asks), then kept
    expect(shardReads).toHaveLength(5); // every page read
    setPersisted(41);
    expect((await hotWindow.page(7, deep, 5)).total).toBe(40); // within the TTL: the kept count
    t += 501;
    expect((await hotWindow.page(7, deep, 5)).total).toBe(41);
    setPersisted(42);
    hotWindow.forget(7); // a follow of 7 through this process: read again at once
    expect((await hotWindow.page(7, deep, 5)).total).toBe(42);
    expect(counted).toHaveLength(4);
  });
});

describe("FansWindow: a hot user's window floor", () => {
  it("sends a page whose cursor is at or below the kept floor to the shard without asking the window, for at most the TTL", async () => {
    let t = 1_000_000;
    const { hotWindow, sorted, floor, calls } = pastWindowFixture(() => t);
    const windowCalls = calls.window;
    const shardReads = calls.shard;
    const deep = sorted[19]!;
    for (let i = 0; i < 4; i++) expect(await hotWindow.page(7, deep, 5)).toMatchObject({ items: sorted.slice(20, 25), total: 40 });
    expect(windowCalls).toHaveLength(2); // asked until hot (2 asks), then the kept floor answers
    expect(shardReads).toHaveLength(4); // the page itself always comes from the shard
    // at the floor itself: the shard's too; above it the window is asked
    expect((await hotWindow.page(7, floor, 5)).items).toEqual(sorted.slice(11, 16));
    expect(windowCalls).toHaveLength(2);
    expect((await hotWindow.page(7, sorted[7]!, 5)).items).toEqual(sorted.slice(8, 13));
    expect(windowCalls).toHaveLength(3);
    // kept for at most the TTL, and dropped by forget
    t += 501;
    await hotWindow.page(7, deep, 5);
    expect(windowCalls).toHaveLength(4);
    hotWindow.forget(7);
    await hotWindow.page(7, deep, 5);
    expect(windowCalls).toHaveLength(5);
  });
});
