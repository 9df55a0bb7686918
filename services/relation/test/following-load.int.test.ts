import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { RelationCache, type FollowingSnapshot } from "../src/adapters/redis/relation-cache.js";
import type { RelationAction, RelationTransition } from "../src/domain/relation-transition.js";
import { FakeFollowsShard, redisFixture, sleep, type RedisFixture } from "./redis-fixture.js";

const CAP = 5_000;
let fx: RedisFixture;
let admin: Redis;
let caches: RelationCache[];
let nextUser = 5_000;
const freshUser = () => ++nextUser;

beforeAll(() => {
  fx = redisFixture();
  admin = fx.client();
  caches = Array.from({ length: 6 }, () => new RelationCache(fx.client(), { keyPrefix: fx.prefix }));
});
afterAll(() => fx.cleanup());

/** The persister's part that matters here: write pending entries to the shard, then compare-and-delete them. */
async function persistOnce(c: RelationCache, a: number, shard: FakeFollowsShard): Promise<number> {
  const entries = await c.pendingEntries(a);
  if (entries.length === 0) return 0;
  shard.persist(entries);
  return (await c.clearPending(a, entries)).cleared;
}

describe("load", () => {
  it("installs shard rows plus the pending overlay, newer than the rows", async () => {
    const a = freshUser();
    const c = caches[0]!;
    const shard = new FakeFollowsShard();
    await c.ensureLoaded(a, async () => shard.snapshot());
    await c.applyTransition(a, 1, "follow", 1_000, 0, CAP);
    await c.applyTransition(a, 2, "follow", 2_000, 0, CAP);
    await persistOnce(c, a, shard);
    await c.applyTransition(a, 1, "unfollow", 3_000, 0, CAP); // pending, not in the shard
    await c.applyTransition(a, 3, "follow", 4_000, 0, CAP); // pending, not in the shard
    await admin.del(c.keys.following(a));
    expect(await c.isFollowing(a, 1)).toEqual({ status: "not_loaded" });
    const r = await c.ensureLoaded(a, async () => shard.snapshot());
    expect(r).toEqual({ outcome: "loaded", attempts: 1 });
    const page = await c.followingPage(a, undefined, 10);
    expect(page.status === "ok" && page.items).toEqual([
      { id: 3, timeMs: 4_000 },
      { id: 2, timeMs: 2_000 },
    ]);
    expect(await c.count(a)).toEqual({ status: "ok", count: 2 });
  });

  it("keeps the cold key distinguishable from following nobody", async () => {
    const a = freshUser();
    const c = caches[0]!;
    expect(await c.count(a)).toEqual({ status: "not_loaded" });
    await c.ensureLoaded(a, async () => ({ rows: [], maxVersion: 0 }));
    expect(await c.count(a)).toEqual({ status: "ok", count: 0 });
    expect(await c.batchIsFollowing(a, [1, 2])).toEqual({ status: "ok", following: [false, false] });
  });

  it("lets the first loader win; a second load is refused as already loaded", async () => {
    const a = freshUser();
    const c = caches[0]!;
    const { epoch } = await c.readState(a);
    expect(await c.load(a, [{ to: 1, timeMs: 10, version: 1 }], 1, epoch)).toEqual({ status: "loaded", count: 1 });
    expect(await c.load(a, [{ to: 2, timeMs: 10, version: 1 }], 1, epoch)).toEqual({ status: "already_loaded" });
    expect(await c.batchIsFollowing(a, [1, 2])).toEqual({ status: "ok", following: [true, false] });
  });

  it("loads a following list at the cap in one script (chunked ZADD)", async () => {
    const a = freshUser();
    const c = caches[0]!;
    const rows = Array.from({ length: CAP }, (_, i) => ({ to: i + 1, timeMs: 1_000 + i, version: i + 1 }));
    expect(await c.ensureLoaded(a, async () => ({ rows, maxVersion: CAP }))).toEqual({ outcome: "loaded", attempts: 1 });
    expect(await c.count(a)).toEqual({ status: "ok", count: CAP });
    expect((await c.applyTransition(a, CAP + 1, "follow", Date.now(), 0, CAP)).status).toBe("cap_exceeded");
  });
});

describe("persist-epoch race", () => {
  it("detects a clearPending between the database read and the load, and the retry loses nothing", async () => {
    const a = freshUser();
    const c = caches[0]!;
    const shard = new FakeFollowsShard();
    await c.ensureLoaded(a, async () => shard.snapshot());
    await c.applyTransition(a, 42, "follow", 1_000, 0, CAP);
    await admin.del(c.keys.following(a));

    // a loader reads the epoch and the shard (42 not persisted yet)...
    const { epoch } = await c.readState(a);
    const stale = shard.snapshot();
    // ...the persister writes 42 and clears it from the overlay...
    expect(await persistOnce(c, a, shard)).toBe(1);
    // ...so the stale rows plus the (now empty) overlay would lose 42: refused
    const r = await c.load(a, stale.rows, stale.maxVersion, epoch);
    expect(r.status).toBe("retry");
    expect(await c.isFollowing(a, 42)).toEqual({ status: "not_loaded" });
    expect(await c.ensureLoaded(a, async () => shard.snapshot())).toEqual({ outcome: "loaded", attempts: 1 });
    expect(await c.isFollowing(a, 42)).toEqual({ status: "ok", following: true });
  });

  it("ensureLoaded retries by itself when the persister moves during its read", async () => {
    const a = freshUser();
    const c = caches[0]!;
    const shard = new FakeFollowsShard();
    await c.ensureLoaded(a, async () => shard.snapshot());
    await c.applyTransition(a, 43, "follow", 1_000, 0, CAP);
    await admin.del(c.keys.following(a));
    let reads = 0;
    const readDb = async (): Promise<FollowingSnapshot> => {
      reads++;
      const snap = shard.snapshot();
      if (reads === 1) await persistOnce(c, a, shard); // the persister runs while the query is in flight
      return snap;
    };
    expect(await c.ensureLoaded(a, readDb)).toEqual({ outcome: "loaded", attempts: 2 });
    expect(await c.isFollowing(a, 43)).toEqual({ status: "ok", following: true });
  });

  it("gives up after the configured attempts with a typed error", async () => {
    const a = freshUser();
    const c = new RelationCache(fx.client(), { keyPrefix: fx.prefix, loadMaxAttempts: 3 });
    const shard = new FakeFollowsShard();
    await c.ensureLoaded(a, async () => shard.snapshot());
    await admin.del(c.keys.following(a));
    let n = 0;
    const readDb = async () => {
      // every read is overtaken by a persist of a new transition
      await admin.hset(c.keys.pending(a), String(100 + n), `f|${++n}|1000|0|0`);
      await c.clearPending(a, [{ to: 100 + n - 1, version: n }]);
      return shard.snapshot();
    };
    await expect(c.ensureLoaded(a, readDb)).rejects.toThrow(/could not be loaded in 3 attempts/);
  });
});

describe("eviction in the middle of a stream of writes", () => {
  it("reload from the shard plus the overlay loses nothing (concurrent writers, persister and evictions)", async () => {
    const a = freshUser();
    const shard = new FakeFollowsShard();
    const results: RelationTransition[] = [];
    let clock = 1_000_000;
    let retries = 0;
    const readDb = async () => {
      const snap = shard.snapshot();
      await sleep(Math.random() * 3); // a query takes time; the persister may overtake it
      return snap;
    };
    const load = async (c: RelationCache) => {
      const r = await c.ensureLoaded(a, readDb);
      if (r.attempts > 1) retries += r.attempts - 1;
    };

    async function writer(w: number): Promise<void> {
      const c = caches[w % caches.length]!;
      for (let i = 0; i < 150; i++) {
        const to = 1 + Math.floor(Math.random() * 40);
        const action: RelationAction = Math.random() < 0.6 ? "follow" : "unfollow";
        for (;;) {
          const r = await c.applyTransition(a, to, action, ++clock, w, CAP);
          if (r.status === "not_loaded") {
            await load(c);
            continue;
          }
          if (r.status === "changed") results.push(r.transition);
          break;
        }
      }
    }
    let running = true;
    let evictions = 0;
    let persisted = 0;
    const persister = (async () => {
      while (running) {
        persisted += await persistOnce(caches[5]!, a, shard);
        await sleep(Math.random() * 4);
      }
    })();
    const evictor = (async () => {
      while (running) {
        await sleep(2 + Math.random() * 6);
        // sometimes the counter goes as well (separate key, separate eviction)
        await admin.del(caches[0]!.keys.following(a), ...(Math.random() < 0.3 ? [caches[0]!.keys.meta(a)] : []));
        evictions++;
      }
    })();
    await caches[0]!.ensureLoaded(a, readDb);
    await Promise.all([0, 1, 2, 3].map(writer));
    running = false;
    await Promise.all([persister, evictor]);

    // Every change was a real one: per followee, in version order, the actions
    // alternate follow, unfollow, follow... A load that lost a transition would
    // let the next request repeat it (two follows in a row).
    const byPair = new Map<number, RelationTransition[]>();
    for (const t of results) byPair.set(t.to, [...(byPair.get(t.to) ?? []), t]);
    for (const list of byPair.values()) {
      list.sort((x, y) => x.version - y.version);
      list.forEach((t, i) => expect(t.action).toBe(i % 2 === 0 ? "follow" : "unfollow"));
    }
    // the truth: per followee, the action of its highest version
    const last = new Map<number, RelationTransition>();
    for (const t of results) if ((last.get(t.to)?.version ?? -1) < t.version) last.set(t.to, t);
    const expected = [...last.values()].filter((t) => t.action === "follow").map((t) => t.to).sort((x, y) => x - y);

    const followed = async () => {
      await load(caches[0]!);
      const p = await caches[0]!.followingPage(a, undefined, 100);
      if (p.status !== "ok") throw new Error("not loaded");
      return p.items.map((x) => x.id).sort((x, y) => x - y);
    };
    expect(await followed()).toEqual(expected);
    await admin.del(caches[0]!.keys.following(a));
    expect(await followed()).toEqual(expected);
    // the versions of A never repeat, whatever was evicted
    expect(new Set(results.map((t) => t.version)).size).toBe(results.length);
    // and the shard plus the remaining overlay is the same state
    shard.persist(await caches[0]!.pendingEntries(a));
    expect(shard.snapshot().rows.map((r) => r.to).sort((x, y) => x - y)).toEqual(expected);
    expect(evictions).toBeGreaterThan(5);
    expect(persisted).toBeGreaterThan(10);
    expect(results.length).toBeGreaterThan(100);
    console.info(`stream: ${results.length} transitions, ${evictions} evictions, ${persisted} persisted, ${retries} load retries`);
  });
});
