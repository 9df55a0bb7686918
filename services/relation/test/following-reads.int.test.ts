import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "@rs/redis";
import { FansCache } from "../src/adapters/redis/fans-cache.js";
import { RelationCache } from "../src/adapters/redis/relation-cache.js";
import type { CursorPosition } from "../src/domain/cursor.js";
import { privateRedis } from "../../../test/support/private-redis.js";
import { commandStats, countCommands, redisFixture, sleep, type RedisFixture } from "./redis-fixture.js";

const CAP = 5_000;
let fx: RedisFixture;
let admin: RedisClient;
let cache: RelationCache;
let fans: FansCache;
let nextUser = 9_000;
const freshUser = () => ++nextUser;

beforeAll(() => {
  fx = redisFixture();
  admin = fx.client();
  cache = new RelationCache(fx.client(), { keyPrefix: fx.prefix });
  fans = new FansCache(fx.client(), { keyPrefix: fx.prefix, windowSize: 3 });
});
afterAll(() => fx.cleanup());

describe("batchIsFollowing", () => {
  it("answers 1000 targets with one script call, counted by the client and by the server's commandstats", async () => {
    const server = await privateRedis();
    const pfx = redisFixture(server.url);
    try {
      const client = pfx.client();
      const c = new RelationCache(client, { keyPrefix: pfx.prefix });
      const a = 1;
      const rows = Array.from({ length: 500 }, (_, i) => ({ to: 2 * i + 2, timeMs: 1_000 + i, version: i + 1 })); // the even ids
      await c.ensureLoaded(a, async () => ({ rows, maxVersion: 500 }));
      const targets = Array.from({ length: 1_000 }, (_, i) => i + 1);
      await c.batchIsFollowing(a, [1]); // the script is loaded on the server by its first call (EVALSHA, NOSCRIPT, EVAL)
      const observer = pfx.client();
      await observer.ping();
      const sent = countCommands(client);
      const before = await commandStats(observer);
      const r = await c.batchIsFollowing(a, targets);
      const after = await commandStats(observer);

      expect(r.status).toBe("ok");
      if (r.status === "ok") expect(r.following).toEqual(targets.map((t) => t % 2 === 0));
      expect(sent).toEqual(["evalsha"]);
      const delta = new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]));
      delta.set("info", (delta.get("info") ?? 0) - 1); // the first INFO counts itself
      // the script: the sentinel's ZSCORE (loaded? indexed?), the size (too big to read whole), then one ZMSCORE of every target
      expect(new Map([...delta].filter(([, v]) => v > 0))).toEqual(
        new Map([
          ["evalsha", 1],
          ["zscore", 1],
          ["zcard", 1],
          ["zmscore", 1],
        ]),
      );
    } finally {
      await pfx.cleanup();
      await server.destroy();
    }
  });

  it("answers the same from a small list read whole as from ZMSCORE, for every list and batch size", async () => {
    // a server of its own: commandstats counts every client's commands
    const server = await privateRedis();
    const pfx = redisFixture(server.url);
    const c = new RelationCache(pfx.client(), { keyPrefix: pfx.prefix });
    const observer = pfx.client();
    const stats = async () => commandStats(observer);
    try {
      for (const size of [1, 5, 20, 100, 128]) {
        const a = freshUser();
        // ids of every length, followed or not, so a string set and ZMSCORE could only agree by being right
        const rows = Array.from({ length: size }, (_, i) => ({ to: i % 3 === 0 ? i + 1 : 10 ** (4 + (i % 9)) + i, timeMs: 1_000 + i, version: i + 1 }));
        await c.ensureLoaded(a, async () => ({ rows, maxVersion: size }));
        const followed = new Set(rows.map((r) => r.to));
        for (const n of [1, 3, 4, 5, 20, 100, 1_000]) {
          const targets = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? rows[(i * 7) % size]!.to : rows[(i * 7) % size]!.to + 1));
          const before = await stats();
          const r = await c.batchIsFollowing(a, targets);
          const after = await stats();
          if (r.status !== "ok") throw new Error(r.status);
          expect(r.following).toEqual(targets.map((t) => followed.has(t)));
          // read whole: 4 ids or more, at most 5 follows per id, and at most 128 entries with the sentinel
          const whole = n >= 4 && size <= n * 5 && size + 1 <= 128;
          const delta = (cmd: string) => (after.get(cmd) ?? 0) - (before.get(cmd) ?? 0);
          expect({ size, n, zrange: delta("zrange"), zmscore: delta("zmscore") }).toEqual({ size, n, zrange: whole ? 1 : 0, zmscore: whole ? 0 : 1 });
        }
      }
    } finally {
      await pfx.cleanup();
      await server.destroy();
    }
  });

  it("reports a cold key and refuses no targets or more than 1000", async () => {
    const a = freshUser();
    expect(await cache.batchIsFollowing(a, [1, 2, 3])).toEqual({ status: "not_loaded" });
    await expect(cache.batchIsFollowing(a, [])).rejects.toThrow(RangeError);
    await expect(
      cache.batchIsFollowing(
        a,
        Array.from({ length: 1_001 }, (_, i) => i + 1),
      ),
    ).rejects.toThrow(RangeError);
  });
});

describe("followingPageFor", () => {
  it("gives the page followingPage gives and, on one Redis, the viewer's follows batchIsFollowing gives", async () => {
    const isCluster = admin.isCluster;
    const a = freshUser();
    const ownerRows = Array.from({ length: 30 }, (_, i) => ({ to: 500_000 + i, timeMs: 10_000 + (i % 20) * 10, version: i + 1 }));
    await cache.ensureLoaded(a, async () => ({ rows: ownerRows, maxVersion: 30 }));
    // viewers: a small plain list, a list past the index threshold, an empty list, one never loaded
    const small = freshUser();
    const big = freshUser();
    const none = freshUser();
    const cold = freshUser();
    const pick = (every: number, extra: number) =>
      ownerRows
        .filter((_, i) => i % every === 0)
        .map((r, i) => ({ to: r.to, timeMs: 20_000 + i, version: i + 1 }))
        .concat(Array.from({ length: extra }, (_, i) => ({ to: 900_000 + i, timeMs: 30_000 + i, version: 1_000 + i })));
    await cache.ensureLoaded(small, async () => ({ rows: pick(3, 2), maxVersion: 2_000 }));
    await cache.ensureLoaded(big, async () => ({ rows: pick(2, 200), maxVersion: 2_000 }));
    await cache.ensureLoaded(none, async () => ({ rows: [], maxVersion: 0 }));
    for (const viewer of [small, big, none, cold]) {
      let cursor: CursorPosition | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const [alone, both] = await Promise.all([cache.followingPage(a, cursor, 7), cache.followingPageFor(a, viewer, cursor, 7)]);
        if (alone.status !== "ok" || both.status !== "ok") throw new Error("not loaded");
        const { viewerFollows, ...page } = both;
        expect(page).toEqual(alone);
        if (isCluster || viewer === cold) expect(viewerFollows).toBeUndefined();
        else {
          const separate = await cache.batchIsFollowing(
            viewer,
            alone.items.map((i) => i.id),
          );
          if (separate.status !== "ok") throw new Error("viewer not loaded");
          expect(viewerFollows).toEqual(separate.following);
        }
        if (!alone.next) break;
        cursor = alone.next;
      }
    }
    expect(await cache.followingPageFor(freshUser(), small, undefined, 7)).toEqual({ status: "not_loaded" });
  });
});

describe("followingPage", () => {
  it("orders ties by numeric id (like the shard), not Redis's byte order", async () => {
    const a = freshUser();
    const ids = [9, 10, 100, 2, 11, 1_000_000_000_000_000];
    await cache.ensureLoaded(a, async () => ({ rows: ids.map((to) => ({ to, timeMs: 5_000, version: 1 })), maxVersion: 1 }));
    const seen: number[] = [];
    let cursor: CursorPosition | undefined;
    for (;;) {
      const p = await cache.followingPage(a, cursor, 2);
      if (p.status !== "ok") throw new Error("not loaded");
      seen.push(...p.items.map((x) => x.id));
      if (!p.next) break;
      cursor = p.next;
    }
    expect(seen).toEqual([...ids].sort((x, y) => y - x));
  });

  it("pages newest first without duplicates or skips while writes happen", async () => {
    const a = freshUser();
    // 400 edges with many equal times and ids of different lengths
    const rows = Array.from({ length: 400 }, (_, i) => ({ to: i % 2 === 0 ? i + 1 : 1_000_000 + i, timeMs: 10_000 + Math.floor(i / 9), version: i + 1 }));
    await cache.ensureLoaded(a, async () => ({ rows, maxVersion: 400 }));
    const removed = new Set<number>();
    let writing = true;
    let clock = 20_000;
    const writer = (async () => {
      let n = 0;
      while (writing) {
        // newer follows (above every cursor) and unfollows of random old edges
        await cache.applyTransition(a, 5_000_000 + n++, "follow", ++clock, 0, CAP);
        const victim = rows[Math.floor(Math.random() * rows.length)]!.to;
        if ((await cache.applyTransition(a, victim, "unfollow", ++clock, 0, CAP)).status === "changed") removed.add(victim);
        await sleep(0);
      }
    })();
    const seen: CursorPosition[] = [];
    let cursor: CursorPosition | undefined;
    for (;;) {
      const p = await cache.followingPage(a, cursor, 7);
      if (p.status !== "ok") throw new Error("not loaded");
      seen.push(...p.items);
      if (!p.next) break;
      cursor = p.next;
      await sleep(1);
    }
    writing = false;
    await writer;

    const ids = seen.map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < seen.length; i++) {
      const [x, y] = [seen[i - 1]!, seen[i]!];
      expect(x.timeMs > y.timeMs || (x.timeMs === y.timeMs && x.id > y.id)).toBe(true);
    }
    const kept = rows.filter((r) => !removed.has(r.to)).map((r) => r.to);
    expect(ids.filter((id) => id < 5_000_000).length).toBeGreaterThanOrEqual(kept.length);
    for (const id of kept) expect(ids).toContain(id);
    expect(removed.size).toBeGreaterThan(0);
  });

  it("refuses a bad limit and reports the total", async () => {
    const a = freshUser();
    await cache.ensureLoaded(a, async () => ({ rows: [{ to: 1, timeMs: 1, version: 1 }], maxVersion: 1 }));
    await expect(cache.followingPage(a, undefined, 0)).rejects.toThrow(RangeError);
    const p = await cache.followingPage(a, undefined, 1);
    expect(p).toEqual({ status: "ok", items: [{ id: 1, timeMs: 1 }], next: undefined, total: 1 });
  });
});

describe("friends", () => {
  it("is exact from Redis when the fans window is complete", async () => {
    const a = freshUser();
    await cache.ensureLoaded(a, async () => ({ rows: [1, 2, 3].map((to) => ({ to, timeMs: 100 * to, version: to })), maxVersion: 3 }));
    await fans.load(
      a,
      [2, 3, 4].map((from) => ({ from, timeMs: 50, version: 1 })),
    );
    const r = await cache.friends(a);
    expect(r).toEqual({
      status: "ok",
      fansWindow: "complete",
      friends: [
        { id: 3, timeMs: 300 },
        { id: 2, timeMs: 200 },
      ],
      unresolved: [],
    });
  });

  it("decides the rest through following:{B}, and hands back cold ones with their pending overlay", async () => {
    const a = freshUser();
    const [b1, b2, b3, b4] = [freshUser(), freshUser(), freshUser(), freshUser()];
    await cache.ensureLoaded(a, async () => ({ rows: [b1, b2, b3, b4].map((to, i) => ({ to, timeMs: 1_000 + i, version: 1 })), maxVersion: 1 }));
    // A has more fans than the window holds: b1 is in it, the others are not
    await fans.load(
      a,
      [b1, 7, 8, 9].map((from, i) => ({ from, timeMs: 5_000 - i, version: 1 })),
    );
    // b2 follows A back (loaded), b3 does not (loaded), b4 is cold but has a pending follow of A
    await cache.ensureLoaded(b2, async () => ({ rows: [{ to: a, timeMs: 10, version: 1 }], maxVersion: 1 }));
    await cache.ensureLoaded(b3, async () => ({ rows: [], maxVersion: 0 }));
    await cache.ensureLoaded(b4, async () => ({ rows: [], maxVersion: 0 }));
    const f = await cache.applyTransition(b4, a, "follow", 77, 0, CAP);
    await admin.del(cache.keys.following(b4));

    const r = await cache.friends(a);
    if (r.status !== "ok") throw new Error("not loaded");
    expect(r.fansWindow).toBe("partial");
    expect(r.friends.map((x) => x.id)).toEqual([b2, b1]);
    expect(r.unresolved).toEqual([
      { id: b4, timeMs: 1_003, pending: { to: a, action: "follow", version: f.status === "changed" ? f.version : -1, timeMs: 77, source: 0, prevTimeMs: 0 } },
    ]);
  });

  it("needs following:{A}", async () => {
    expect(await cache.friends(freshUser())).toEqual({ status: "not_loaded" });
  });
});
