/**
 * Reads of arbitrary ids load following:{A} and fans:{B} with no rows (a user
 * without follows or fans, or no user at all). Such lists live the short
 * empty lifetime, not the day a loaded list lives, so a stream of arbitrary
 * ids cannot fill Redis with day-long keys; the first write makes the list a
 * normal one again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "@rs/redis";
import { DEFAULT_CACHE_TTL_MS, DEFAULT_EMPTY_CACHE_TTL_MS } from "../src/adapters/redis/cache-ttl.js";
import { FansCache } from "../src/adapters/redis/fans-cache.js";
import { RelationCache } from "../src/adapters/redis/relation-cache.js";
import { redisFixture, type RedisFixture } from "./redis-fixture.js";

const CAP = 5_000;

let fx: RedisFixture;
let admin: RedisClient;
let cache: RelationCache;
let fans: FansCache;
let nextUser = 900_000;
const freshUser = () => ++nextUser;

beforeAll(() => {
  fx = redisFixture();
  admin = fx.client();
  cache = new RelationCache(fx.client(), { keyPrefix: fx.prefix });
  fans = new FansCache(fx.client(), { keyPrefix: fx.prefix });
});
afterAll(() => fx.cleanup());

/** Remaining lifetime of every key, in ms (-1: none, -2: missing). */
const lifetimes = (...keys: string[]) => Promise.all(keys.map((k) => admin.pttl(k)));

describe("lifetime of lists loaded empty", () => {
  it("following:{A} (and meta:{A}) of an id with no rows live the empty lifetime; a follow gives them the full one", async () => {
    const a = freshUser();
    await cache.ensureLoaded(a, async () => ({ rows: [], maxVersion: 0 }));
    const [following, meta] = await lifetimes(cache.keys.following(a), cache.keys.meta(a));
    expect(following).toBeGreaterThan(0);
    expect(following).toBeLessThanOrEqual(DEFAULT_EMPTY_CACHE_TTL_MS);
    // meta:{A} exists only once there is a version to keep; when it does, it lives as long as the list
    if (meta !== -2) expect(meta).toBeLessThanOrEqual(DEFAULT_EMPTY_CACHE_TTL_MS);
    const r = await cache.applyTransition(a, 7, "follow", Date.now(), 0, CAP);
    expect(r.status).toBe("changed");
    for (const ttl of await lifetimes(cache.keys.following(a))) expect(ttl).toBeGreaterThan(DEFAULT_CACHE_TTL_MS - 60_000);
  });

  it("following:{A} loaded with rows lives the full lifetime", async () => {
    const a = freshUser();
    await cache.ensureLoaded(a, async () => ({ rows: [{ to: 5, timeMs: 1_000, version: 10 }], maxVersion: 10 }));
    const [ttl] = await lifetimes(cache.keys.following(a));
    expect(ttl).toBeGreaterThan(DEFAULT_CACHE_TTL_MS - 60_000);
  });

  it("fans:{B} of an id with no fans lives the empty lifetime; with fans the full one", async () => {
    const empty = freshUser();
    expect((await fans.load(empty, [])).status).toBe("loaded");
    for (const ttl of await lifetimes(fans.keys.fans(empty), fans.keys.fansVersions(empty))) {
      if (ttl === -2) continue; // the script may keep no versions hash for an empty window
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(DEFAULT_EMPTY_CACHE_TTL_MS);
    }
    expect(await admin.exists(fans.keys.fans(empty))).toBe(1);

    const b = freshUser();
    expect((await fans.load(b, [{ from: 3, timeMs: 1_000, version: 10 }])).status).toBe("loaded");
    const [ttl] = await lifetimes(fans.keys.fans(b));
    expect(ttl).toBeGreaterThan(DEFAULT_CACHE_TTL_MS - 60_000);
  });

  it("no key of an empty load is left without a lifetime", async () => {
    const before = new Set(await admin.keys(`${fx.prefix}*`));
    const ids = Array.from({ length: 20 }, freshUser);
    for (const id of ids) {
      await cache.ensureLoaded(id, async () => ({ rows: [], maxVersion: 0 }));
      await fans.load(id, []);
    }
    const created = (await admin.keys(`${fx.prefix}*`)).filter((k) => !before.has(k));
    expect(created.length).toBeGreaterThan(0);
    for (const ttl of await lifetimes(...created)) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(DEFAULT_EMPTY_CACHE_TTL_MS);
    }
  });
});
