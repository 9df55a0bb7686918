import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "@rs/redis";
import { FansCache } from "../src/adapters/redis/fans-cache.js";
import { compareNewestFirst, type CursorPosition } from "../src/domain/cursor.js";
import type { RelationTransition } from "../src/domain/relation-transition.js";
import { privateRedis } from "../../../test/support/private-redis.js";
import { commandStats, redisFixture, type RedisFixture } from "./redis-fixture.js";

let fx: RedisFixture;
let admin: RedisClient;
let nextUser = 20_000;
const freshUser = () => ++nextUser;
let wide: FansCache[];

beforeAll(() => {
  fx = redisFixture();
  admin = fx.client();
  wide = Array.from({ length: 4 }, () => new FansCache(fx.client(), { keyPrefix: fx.prefix, windowSize: 1_000 }));
});
afterAll(() => fx.cleanup());

/** Each fan's own history toward `to`: follow, unfollow, follow... with rising versions and times. */
function history(to: number, fans: number, rnd: () => number = Math.random): RelationTransition[] {
  const out: RelationTransition[] = [];
  for (let from = 1; from <= fans; from++) {
    const steps = 1 + Math.floor(rnd() * 5);
    let version = 1_000_000 + Math.floor(rnd() * 1_000);
    let time = 1_000 + Math.floor(rnd() * 50); // few distinct times: many ties
    for (let s = 0; s < steps; s++) {
      out.push({ from, to, action: s % 2 === 0 ? "follow" : "unfollow", version, occurredAtMs: time, source: 0 });
      version += 1 + Math.floor(rnd() * 10);
      time += Math.floor(rnd() * 3);
    }
  }
  return out;
}

/** What the fans list truly is after the history: each fan's newest transition, the followers, newest first. */
function model(h: readonly RelationTransition[]): CursorPosition[] {
  const last = new Map<number, RelationTransition>();
  for (const t of h) if ((last.get(t.from)?.version ?? 0) < t.version) last.set(t.from, t);
  return [...last.values()]
    .filter((t) => t.action === "follow")
    .map((t) => ({ id: t.from, timeMs: t.occurredAtMs }))
    .sort(compareNewestFirst);
}

const shuffle = <T>(xs: readonly T[]): T[] => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
};

async function readAll(c: FansCache, b: number): Promise<{ items: CursorPosition[]; complete: boolean }> {
  const items: CursorPosition[] = [];
  let cursor: CursorPosition | undefined;
  for (;;) {
    const p = await c.fansPage(b, cursor, 7);
    if (p.status !== "ok") throw new Error("fans window not loaded");
    items.push(...p.items);
    if (!p.next) return { items, complete: p.complete };
    cursor = p.next;
  }
}

const rawState = async (c: FansCache, b: number) => ({
  fans: await admin.zrange(c.keys.fans(b), 0, -1, "WITHSCORES"),
  versions: await admin.hgetall(c.keys.fansVersions(b)),
});

describe("fans:{B} steps", () => {
  it("reach the same window in any order, with duplicates, over concurrent connections", async () => {
    const b0 = freshUser();
    const h = history(b0, 60);
    const truth = model(h);
    for (let round = 0; round < 4; round++) {
      const b = freshUser();
      await wide[0]!.load(b, []);
      const steps = shuffle([...h, ...h.filter(() => Math.random() < 0.3)]).map((t) => ({ ...t, to: b }));
      const results = await Promise.all(steps.map((t, i) => wide[i % wide.length]!.applyFanTransition(t)));
      expect(results).not.toContain("invalidated");
      expect(results.filter((r) => r === "applied").length).toBeGreaterThan(0);
      expect(await readAll(wide[0]!, b)).toEqual({ items: truth, complete: true });
    }
  });

  it("are idempotent: replaying every transition changes nothing", async () => {
    const b = freshUser();
    const h = history(b, 40);
    await wide[0]!.load(b, []);
    for (const t of shuffle(h)) await wide[0]!.applyFanTransition(t);
    const before = await rawState(wide[0]!, b);
    const replay = await Promise.all(shuffle(h).map((t, i) => wide[i % wide.length]!.applyFanTransition(t)));
    expect(new Set(replay)).toEqual(new Set(["duplicate", "stale"].filter((r) => replay.includes(r as never))));
    expect(await rawState(wide[0]!, b)).toEqual(before);
  });

  it("keep the newest N as a gap-free prefix, in any order, and know they are incomplete", async () => {
    const n = 10;
    const small = new FansCache(fx.client(), { keyPrefix: fx.prefix, windowSize: n, tombstoneLimit: 1_000 });
    for (let round = 0; round < 6; round++) {
      const b = freshUser();
      const h = history(b, 50);
      const truth = model(h);
      await small.load(b, []);
      for (const t of shuffle(h)) await small.applyFanTransition(t);
      const got = await readAll(small, b);
      expect(got.items.length).toBeLessThanOrEqual(n);
      expect(got.items).toEqual(truth.slice(0, got.items.length));
      if (truth.length > n) expect(got.complete).toBe(false);
      if (got.complete) expect(got.items).toEqual(truth);
    }
  });

  it("record steps on a cold window, and a shard load that missed them merges by version", async () => {
    const b = freshUser();
    const c = wide[0]!;
    // steps arrive before anyone loaded the window: 5 follows (not yet in the shard), 6 unfollows
    expect(await c.applyFanTransition({ from: 5, to: b, action: "follow", version: 50, occurredAtMs: 9_000, source: 0 })).toBe("applied");
    expect(await c.applyFanTransition({ from: 6, to: b, action: "unfollow", version: 60, occurredAtMs: 9_100, source: 0 })).toBe("applied");
    expect(await c.fansPage(b, undefined, 10)).toEqual({ status: "not_loaded" });
    // the shard still has 6's older follow, and knows nothing of 5
    const loaded = await c.load(b, [
      { from: 6, timeMs: 1_000, version: 20 },
      { from: 7, timeMs: 2_000, version: 30 },
    ]);
    expect(loaded).toEqual({ status: "loaded", count: 2, complete: true });
    expect(await readAll(c, b)).toEqual({
      items: [
        { id: 5, timeMs: 9_000 },
        { id: 7, timeMs: 2_000 },
      ],
      complete: true,
    });
    expect(await c.load(b, [])).toEqual({ status: "already_loaded" });
  });

  it("serve the window, then say where the shard takes over, without duplicates or gaps", async () => {
    const n = 5;
    const c = new FansCache(fx.client(), { keyPrefix: fx.prefix, windowSize: n });
    const b = freshUser();
    const shard = Array.from({ length: 23 }, (_, i) => ({ from: 100 + i, timeMs: 1_000 + Math.floor(i / 3), version: 1 }));
    const newest = [...shard].sort((x, y) => compareNewestFirst({ id: x.from, timeMs: x.timeMs }, { id: y.from, timeMs: y.timeMs }));
    expect(await c.load(b, newest.slice(0, n + 1))).toEqual({ status: "loaded", count: n, complete: false });
    const seen: CursorPosition[] = [];
    let cursor: CursorPosition | undefined;
    for (;;) {
      const p = await c.fansPage(b, cursor, 2);
      if (p.status !== "ok") throw new Error("not loaded");
      seen.push(...p.items);
      cursor = seen[seen.length - 1];
      if (!p.next) {
        expect(p.complete).toBe(false);
        break;
      }
    }
    expect(seen).toHaveLength(n);
    // continue in the "shard" from the same cursor
    const rest = newest.map((r) => ({ id: r.from, timeMs: r.timeMs })).filter((x) => compareNewestFirst(cursor!, x) < 0);
    const all = [...seen, ...rest];
    expect(all).toEqual(newest.map((r) => ({ id: r.from, timeMs: r.timeMs })));
    // a follow older than the window floor is not kept (it belongs to the shard's part)
    expect(await c.applyFanTransition({ from: 999, to: b, action: "follow", version: 5, occurredAtMs: 500, source: 0 })).toBe("ignored");
    // a new follow enters on top and pushes the oldest out
    expect(await c.applyFanTransition({ from: 998, to: b, action: "follow", version: 5, occurredAtMs: 5_000, source: 0 })).toBe("applied");
    const after = await readAll(c, b);
    expect(after.items).toEqual([{ id: 998, timeMs: 5_000 }, ...seen.slice(0, n - 1)]);
  });

  it("answer a page whose cursor is at or below the window's floor from the floor alone, with no range read", async () => {
    // a server of its own: commandstats counts every client's commands
    const server = await privateRedis();
    const pfx = redisFixture(server.url);
    const c = new FansCache(pfx.client(), { keyPrefix: pfx.prefix, windowSize: 5 });
    const observer = pfx.client();
    try {
      const b = freshUser();
      const newest = Array.from({ length: 12 }, (_, i) => ({ from: 100 + i, timeMs: 1_000 + Math.floor(i / 3), version: 1 }))
        .map((r) => ({ ...r, pos: { id: r.from, timeMs: r.timeMs } }))
        .sort((x, y) => compareNewestFirst(x.pos, y.pos));
      await c.load(
        b,
        newest.slice(0, 6).map(({ from, timeMs, version }) => ({ from, timeMs, version })),
      );
      const floor = newest[5]!.pos; // the window keeps the newest 5; its floor is the 6th, the first it does not know
      const ranges = async (cursor: CursorPosition) => {
        const before = await commandStats(observer);
        const page = await c.fansPage(b, cursor, 3);
        const after = await commandStats(observer);
        return { page, ranges: (after.get("zrevrangebyscore") ?? 0) - (before.get("zrevrangebyscore") ?? 0) };
      };
      // the floor and beyond: nothing of the window comes after them, and no range is read
      for (const cursor of [floor, newest[8]!.pos, newest[11]!.pos, { id: 1, timeMs: 1 }]) {
        expect(await ranges(cursor)).toEqual({ page: { status: "ok", items: [], next: undefined, complete: false, cachedCount: 5, floor }, ranges: 0 });
      }
      // above the floor the window still answers from its range, up to its last entry
      const above = await ranges(newest[2]!.pos);
      expect(above.page).toMatchObject({ status: "ok", items: [newest[3]!.pos, newest[4]!.pos], complete: false, floor });
      expect(above.ranges).toBeGreaterThan(0);
      expect((await ranges(newest[4]!.pos)).page).toMatchObject({ status: "ok", items: [], complete: false });
    } finally {
      await pfx.cleanup();
      await server.destroy();
    }
  });

  it("drop the window when a follow may be the late twin of a pruned tombstone", async () => {
    const c = new FansCache(fx.client(), { keyPrefix: fx.prefix, windowSize: 100, tombstoneLimit: 4 });
    const b = freshUser();
    await c.load(b, []);
    for (let from = 1; from <= 6; from++) {
      await c.applyFanTransition({ from, to: b, action: "follow", version: 10 * from, occurredAtMs: 1_000, source: 0 });
      await c.applyFanTransition({ from, to: b, action: "unfollow", version: 10 * from + 1, occurredAtMs: 1_001, source: 0 });
    }
    // fan 1's tombstone (version 11) was pruned; its late follow (version 10) cannot be told from a new fan
    expect(await c.applyFanTransition({ from: 1, to: b, action: "follow", version: 10, occurredAtMs: 1_000, source: 0 })).toBe("invalidated");
    expect(await c.fansPage(b, undefined, 10)).toEqual({ status: "not_loaded" });
    // fan 6's tombstone is still known: its late follow is just stale
    await c.load(b, []);
    await c.applyFanTransition({ from: 6, to: b, action: "unfollow", version: 61, occurredAtMs: 1_001, source: 0 });
    expect(await c.applyFanTransition({ from: 6, to: b, action: "follow", version: 60, occurredAtMs: 1_000, source: 0 })).toBe("stale");
  });

  it("treat a window whose other half was evicted as cold", async () => {
    const b = freshUser();
    const c = wide[0]!;
    await c.load(b, [{ from: 3, timeMs: 1, version: 1 }]);
    await admin.del(c.keys.fansVersions(b));
    expect(await c.fansPage(b, undefined, 10)).toEqual({ status: "not_loaded" });
    expect(await admin.exists(c.keys.fans(b))).toBe(0);
  });
});
