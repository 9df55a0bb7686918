/**
 * The persister's post-commit Redis steps over a whole chunk (clearPendingMany,
 * applyFanTransitions: a few script calls, per hash slot on a cluster) do
 * exactly what the calls per follower and per edge did: the same pending
 * entries go, the same epochs move, the same fans windows result, step for step.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { keySlot, type RedisClient } from "@rs/redis";
import { FansCache } from "../src/adapters/redis/fans-cache.js";
import { RelationCache } from "../src/adapters/redis/relation-cache.js";
import { MAX_ENTRIES_PER_CALL, perCall } from "../src/adapters/redis/relation-scripts.js";
import { encodePending, type PendingEntry, type RelationTransition } from "../src/domain/relation-transition.js";
import type { EdgeEvent } from "../src/persister/edge-fold.js";
import { RelationPersister } from "../src/persister/relation-persister.js";
import { redisFixture, type RedisFixture } from "./redis-fixture.js";

let fx: RedisFixture;
let admin: RedisClient;
let nextUser = 50_000;
const freshUsers = (n: number) => Array.from({ length: n }, () => ++nextUser);

beforeAll(() => {
  fx = redisFixture();
  admin = fx.client();
});
afterAll(() => fx.cleanup());

/** A second set of keys beside the fixture's: the per-edge calls run on one, the batched on the other. */
const prefixes = () => [`${fx.prefix}one:`, `${fx.prefix}many:`] as const;

const pendingValue = (action: "follow" | "unfollow", version: number) => encodePending({ action, version, timeMs: 1_000, source: 0, prevTimeMs: 0 });

describe("perCall", () => {
  it("puts every entry in exactly one call, in order per user, at most MAX_ENTRIES_PER_CALL per call, one slot per call on a cluster", () => {
    const users = freshUsers(400);
    // most users own a few entries, one owns more than fit in a call
    const owners = [...users.flatMap((u, i) => Array.from({ length: 1 + (i % 3) }, () => u)), ...Array.from({ length: 450 }, () => users[0]!)];
    const keys = new RelationCache(admin, { keyPrefix: fx.prefix }).keys;
    const calls = perCall(admin, owners, (u) => keys.pending(u));
    const seen: number[] = [];
    for (const call of calls) {
      const size = [...call.values()].reduce((n, ix) => n + ix.length, 0);
      expect(size).toBeLessThanOrEqual(MAX_ENTRIES_PER_CALL);
      if (admin.isCluster) expect(new Set([...call.keys()].map((u) => keySlot(keys.pending(u)))).size).toBe(1);
      for (const [u, ix] of call) for (const i of ix) expect(owners[i]).toBe(u);
      for (const ix of call.values()) seen.push(...ix);
    }
    // indexes of one user rise across its calls
    const perUser = new Map<number, number[]>();
    for (const i of seen) perUser.set(owners[i]!, [...(perUser.get(owners[i]!) ?? []), i]);
    for (const ix of perUser.values()) expect(ix).toEqual([...ix].sort((a, b) => a - b));
    expect(seen.sort((a, b) => a - b)).toEqual(owners.map((_, i) => i));
    if (!admin.isCluster) expect(calls).toHaveLength(Math.ceil(owners.length / MAX_ENTRIES_PER_CALL));
  });
});

describe("clearPendingMany", () => {
  it("clears what clearPending per user clears: only entries still at the written version, across many users and slots", async () => {
    const users = freshUsers(300);
    const caches = prefixes().map((keyPrefix) => new RelationCache(fx.client(), { keyPrefix }));
    const written: { from: number; to: number; version: number }[] = [];
    // each user: entries written at the same version (go), entries with a newer transition since (stay),
    // entries that were never there (nothing), and one user with more entries than a call takes
    for (const c of caches) {
      const writes: Promise<unknown>[] = [];
      users.forEach((a, i) => {
        const n = i === 0 ? MAX_ENTRIES_PER_CALL + 50 : 1 + (i % 4);
        for (let k = 0; k < n; k++) {
          const to = 1_000 + k;
          const version = 10 * (to + a);
          const newer = k % 3 === 1;
          writes.push(admin.hset(c.keys.pending(a), String(to), pendingValue(k % 2 ? "unfollow" : "follow", newer ? version + 1 : version)));
          writes.push(admin.hset(c.keys.meta(a), `p:${to}`, String(version)));
          if (c === caches[0]) written.push({ from: a, to, version });
        }
        if (c === caches[0]) written.push({ from: a, to: 999, version: 5 });
      });
      await Promise.all(writes);
    }
    const epochsBefore = await Promise.all(users.map((a) => admin.hget(caches[0]!.keys.meta(a), "e")));
    expect(epochsBefore.every((e) => e === null)).toBe(true);

    let clearedOne = 0;
    const byUser = new Map<number, typeof written>();
    for (const w of written) byUser.set(w.from, [...(byUser.get(w.from) ?? []), w]);
    for (const [a, ws] of byUser) clearedOne += (await caches[0]!.clearPending(a, ws)).cleared;
    const clearedMany = await caches[1]!.clearPendingMany(written);
    expect(clearedMany).toBe(clearedOne);
    expect(clearedMany).toBeGreaterThan(0);

    for (const a of users) {
      const [one, many] = (await Promise.all(caches.map((c) => c.pendingEntries(a)))) as [PendingEntry[], PendingEntry[]];
      const sorted = (xs: typeof one) => [...xs].sort((x, y) => x.to - y.to);
      expect(sorted(many)).toEqual(sorted(one));
      expect(many.every((e) => e.version % 10 === 1)).toBe(true); // only the newer ones stayed
      const [metaOne, metaMany] = (await Promise.all(caches.map((c) => admin.hgetall(c.keys.meta(a))))) as [Record<string, string>, Record<string, string>];
      const withoutEpoch = ({ e, ...rest }: Record<string, string>) => ({ rest, moved: e !== undefined && Number(e) > 0 });
      expect(withoutEpoch(metaMany)).toEqual(withoutEpoch(metaOne));
      expect(await admin.pttl(caches[1]!.keys.meta(a))).toBeGreaterThan(0);
    }
  });

  it("moves a user's epoch on again when it clears more, and leaves it when nothing went", async () => {
    const [a] = freshUsers(1);
    const c = new RelationCache(fx.client(), { keyPrefix: fx.prefix });
    await admin.hset(c.keys.pending(a!), "7", pendingValue("follow", 70), "8", pendingValue("follow", 80));
    expect(await c.clearPendingMany([{ from: a!, to: 7, version: 70 }])).toBe(1);
    const e1 = await admin.hget(c.keys.meta(a!), "e");
    expect(await c.clearPendingMany([{ from: a!, to: 8, version: 79 }])).toBe(0);
    expect(await admin.hget(c.keys.meta(a!), "e")).toBe(e1);
    expect(await c.clearPendingMany([{ from: a!, to: 8, version: 80 }])).toBe(1);
    expect(Number(await admin.hget(c.keys.meta(a!), "e"))).toBeGreaterThan(Number(e1));
    expect(await c.clearPendingMany([])).toBe(0);
  });
});

describe("applyFanTransitions", () => {
  /** A seeded generator (mulberry32): the same histories on every run. */
  function random(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
  }

  /** Per B, each fan's follows and unfollows, shuffled, with duplicates: stale steps, ties of time, trims. */
  function steps(bs: readonly number[]): RelationTransition[] {
    const rnd = random(7);
    const out: RelationTransition[] = [];
    for (const to of bs) {
      for (let from = 1; from <= 6; from++) {
        let version = 1_000_000 + Math.floor(rnd() * 100);
        let time = 1_000 + Math.floor(rnd() * 20);
        for (let s = 0; s < 1 + Math.floor(rnd() * 4); s++) {
          const t: RelationTransition = { from, to, action: s % 2 === 0 ? "follow" : "unfollow", version, occurredAtMs: time, source: 0 };
          out.push(t);
          if (rnd() < 0.2) out.push(t);
          version += 1 + Math.floor(rnd() * 5);
          time += Math.floor(rnd() * 3);
        }
      }
    }
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  const rawWindow = async (c: FansCache, b: number) => ({
    fans: await admin.zrange(c.keys.fans(b), 0, -1, "WITHSCORES"),
    versions: await admin.hgetall(c.keys.fansVersions(b)),
  });

  it("gives the same results and windows as one call per edge, on loaded, cold and trimmed windows, across slots", async () => {
    const bs = freshUsers(250);
    // a small window and few tombstones: trims, floors, pruned tombstones and invalidations happen
    const caches = prefixes().map((keyPrefix) => new FansCache(fx.client(), { keyPrefix, windowSize: 3, tombstoneLimit: 2 }));
    for (const c of caches) for (const b of bs.filter((_, i) => i % 2 === 0)) await c.load(b, []);
    const ts = steps(bs);
    expect(ts.length).toBeGreaterThan(2 * MAX_ENTRIES_PER_CALL);

    const one = [];
    for (const t of ts) one.push(await caches[0]!.applyFanTransition(t));
    const many = await caches[1]!.applyFanTransitions(ts);
    expect(many).toEqual(one);
    expect(new Set(many)).toEqual(new Set(["applied", "duplicate", "stale", "ignored", "invalidated"]));
    for (const b of bs) {
      expect(await rawWindow(caches[1]!, b)).toEqual(await rawWindow(caches[0]!, b));
      const ttl = await admin.pttl(caches[1]!.keys.fans(b));
      expect(ttl === -2 || ttl > 0).toBe(true);
    }
    // the persister's redelivery of the chunk: the same again on both
    const oneAgain = [];
    for (const t of ts) oneAgain.push(await caches[0]!.applyFanTransition(t));
    expect(await caches[1]!.applyFanTransitions(ts)).toEqual(oneAgain);
    for (const b of bs) expect(await rawWindow(caches[1]!, b)).toEqual(await rawWindow(caches[0]!, b));
  });
});

describe("RelationPersister.afterCommit", () => {
  it("clears each edge's newest pending version and repeats the fans steps, for a chunk mixing follows and unfollows", async () => {
    const users = freshUsers(40);
    const cache = new RelationCache(fx.client(), { keyPrefix: fx.prefix });
    const fans = new FansCache(fx.client(), { keyPrefix: fx.prefix });
    const logger = createLogger("post-commit-test", "silent");
    const persister = new RelationPersister({ mysql: undefined as never, cache, fans, counts: { publish: async () => undefined }, logger });
    let version = 5_000_000;
    const events: EdgeEvent[] = [];
    const fansCurrent: EdgeEvent[] = [];
    for (let i = 0; i < users.length; i++) {
      const from = users[i]!;
      const to = users[(i + 1) % users.length]!;
      const follow: EdgeEvent = { from, to, action: "follow", version: ++version, occurredAtMs: 2_000 + i, source: 0 };
      const unfollow: EdgeEvent = { ...follow, action: "unfollow", version: ++version };
      // even users: followed then unfollowed in this chunk; odd users: only followed
      const chunk = i % 2 === 0 ? [follow, unfollow] : [follow];
      events.push(...chunk);
      fansCurrent.push(chunk.at(-1)!);
      // the overlay holds each edge's newest transition; every fourth edge has moved on since
      const newest = chunk.at(-1)!;
      const pendingVersion = i % 4 === 3 ? version + 1_000 : newest.version;
      await admin.hset(cache.keys.pending(from), String(to), pendingValue(newest.action, pendingVersion));
    }
    await persister.afterCommit(events, { edgesChanged: 0, edgesUnchanged: 0, transitions: 0, eventsApplied: 0, underflows: 0, counts: [], fansCurrent });

    for (let i = 0; i < users.length; i++) {
      const from = users[i]!;
      const to = users[(i + 1) % users.length]!;
      const left = await cache.pendingEntries(from);
      expect(left.map((e) => e.to)).toEqual(i % 4 === 3 ? [to] : []);
      const window = await admin.hget(fans.keys.fansVersions(to), String(from));
      const newest = fansCurrent[i]!;
      expect(window).toBe(newest.action === "unfollow" ? `-${newest.version}` : String(newest.version));
      expect(await admin.zscore(fans.keys.fans(to), String(from))).toBe(newest.action === "follow" ? String(newest.occurredAtMs) : null);
    }
  });
});
