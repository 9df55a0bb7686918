/**
 * The reconciler's "cached" check: a cached following:{A} that differs from the shards is reported (dry run) and dropped (repair), so its
 * next read reloads it; a right one is left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RelationReadsRepository } from "../src/adapters/mysql/relation-reads.repository.js";
import { FansCache } from "../src/adapters/redis/fans-cache.js";
import { RelationCache } from "../src/adapters/redis/relation-cache.js";
import { RelationPersister } from "../src/persister/relation-persister.js";
import { Reconciler } from "../src/reconciler/reconciler.js";
import { createWorld, logger, seedEdge, type World } from "./relation-harness.js";

let w: World;
let reconciler: Reconciler;
let cache: RelationCache;
let fans: FansCache;

beforeAll(async () => {
  w = await createWorld("reccached");
  cache = new RelationCache(w.admin, { keyPrefix: w.redis.prefix });
  fans = new FansCache(w.admin, { keyPrefix: w.redis.prefix });
  const counts = { publish: async () => undefined };
  const persister = new RelationPersister({ mysql: w.sharded, cache, fans, counts, logger });
  reconciler = new Reconciler({ mysql: w.sharded, redis: w.admin, cache, persister, counts, logger, cachedListsSample: 1 });
}, 120_000);

afterAll(() => w?.cleanup());

const run = (dryRun: boolean) => reconciler.run({ dryRun, checks: ["cached"], batchRows: 100, graceMs: 0, pauseMs: 0 });

describe("the reconciler's cached lists check", () => {
  it("reports, then drops, cached lists that differ from the shards", async () => {
    const [a, b, c] = [9_100_001, 9_100_002, 9_100_003];
    const t = Date.now() - 60_000;
    await seedEdge(w, a, b, t);
    await seedEdge(w, a, c, t + 1);
    // both lists loaded from the shards: they agree
    await cache.ensureLoaded(a, () => new RelationReadsRepository(w.sharded).followingSnapshot(a));
    expect((await run(true)).found.cached_following_wrong).toBe(0);

    // following:{a} loses c, as after a Redis restart that missed it
    await w.admin.zrem(`${w.redis.prefix}following:{${a}}`, String(c));
    const dry = await run(true);
    expect(dry.found.cached_following_wrong).toBe(1);
    expect(await w.admin.exists(`${w.redis.prefix}following:{${a}}`)).toBe(1);

    const repair = await run(false);
    expect(repair.fixed.cached_following_wrong).toBe(1);
    expect(await w.admin.exists(`${w.redis.prefix}following:{${a}}`)).toBe(0);
    expect((await run(true)).found.cached_following_wrong).toBe(0);
  });

  it("does the same for a fans:{B} window that lost a fan", async () => {
    const [a, b, c] = [9_200_001, 9_200_002, 9_200_003];
    const t = Date.now() - 60_000;
    await seedEdge(w, a, c, t);
    await seedEdge(w, b, c, t + 1);
    const store = new RelationReadsRepository(w.sharded);
    expect(await fans.load(c, await store.newestFans(c, 1_000))).toMatchObject({ status: "loaded", count: 2 });
    expect((await run(true)).found.cached_fans_wrong).toBe(0);

    await w.admin.zrem(`${w.redis.prefix}fans:{${c}}`, String(a));
    expect((await run(true)).found.cached_fans_wrong).toBe(1);
    expect((await run(false)).fixed.cached_fans_wrong).toBe(1);
    expect(await w.admin.exists(`${w.redis.prefix}fans:{${c}}`, `${w.redis.prefix}fansv:{${c}}`)).toBe(0);
    expect((await run(true)).found.cached_fans_wrong).toBe(0);
  });
});
