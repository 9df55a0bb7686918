/**
 * The pending index on the real Redis: claims are exclusive for their lease,
 * a settle is a compare-and-set that a writer's newer mark always wins, and a
 * rebuild finds overlays the index does not know.
 */
import { afterAll, describe, expect, it } from "vitest";
import { PendingIndex, SKIPLIST_PIN } from "../src/adapters/redis/pending-index.js";
import { RelationScripts } from "../src/adapters/redis/relation-scripts.js";
import { relationKeys } from "../src/adapters/redis/relation-keys.js";
import { redisFixture } from "./redis-fixture.js";

const fixture = redisFixture();
const redis = fixture.client();
const keys = relationKeys(fixture.prefix);
const index = new PendingIndex(redis, keys, new RelationScripts(redis));
const NOW = 1_800_000_000_000;

afterAll(() => fixture.cleanup());

const score = async (a: number) => redis.zscore(keys.pendingIndex(), String(a));

describe("PendingIndex", () => {
  it("stays a skiplist whatever Redis's zset-max-listpack-entries (a pinned member), which size() leaves out", async () => {
    const own = relationKeys(`${fixture.prefix}own:`);
    const idx = new PendingIndex(redis, own, new RelationScripts(redis));
    for (let a = 1; a <= 300; a++) await idx.mark(a, NOW + a);
    expect(await redis.object("ENCODING", own.pendingIndex())).toBe("skiplist");
    expect(await redis.zscore(own.pendingIndex(), SKIPLIST_PIN)).toBe("inf");
    expect(await idx.size()).toBe(300);
    // never due, never claimed
    expect((await idx.claimDue(NOW + 1_000_000, 30_000, 1_000)).users).toHaveLength(300);
  });

  it("claims only due users, once per lease", async () => {
    await index.mark(11, NOW - 1);
    await index.mark(12, NOW + 5_000);
    const first = await index.claimDue(NOW, 30_000, 10);
    expect(first.users).toEqual([11]);
    expect(Number(await score(11))).toBe(NOW + 30_000 + 0.5);
    // another instance's pass at the same moment gets nothing
    expect((await index.claimDue(NOW, 30_000, 10)).users).toEqual([]);
    // after the lease the user is due again (a sweeper that died mid-pass)
    expect((await index.claimDue(NOW + 31_000, 30_000, 10)).users).toEqual(expect.arrayContaining([11]));
  });

  it("settles by compare-and-set: drop, reschedule, or leave a writer's newer mark", async () => {
    await index.mark(21, NOW);
    await index.mark(22, NOW);
    await index.mark(23, NOW);
    const claim = await index.claimDue(NOW, 30_000, 10);
    expect(claim.users).toEqual(expect.arrayContaining([21, 22, 23]));
    expect(await index.settle(21, claim.claimScore, undefined)).toBe(true);
    expect(await score(21)).toBeNull();
    expect(await index.settle(22, claim.claimScore, NOW + 40_000)).toBe(true);
    expect(Number(await score(22))).toBe(NOW + 40_000);
    // a writer marked 23 after the claim: the sweeper must not drop it
    await index.mark(23, NOW + 10_000);
    expect(await index.settle(23, claim.claimScore, undefined)).toBe(false);
    expect(Number(await score(23))).toBe(NOW + 10_000);
  });

  it("rebuilds the index from the pending overlays, keeping existing schedules", async () => {
    await redis.hset(keys.pending(31), "5", "f|1|1|0|0");
    await redis.hset(keys.pending(32), "6", "f|1|1|0|0");
    await index.mark(32, NOW + 99_000);
    expect(await index.rebuild(NOW)).toBeGreaterThanOrEqual(2);
    expect(Number(await score(31))).toBe(NOW);
    expect(Number(await score(32))).toBe(NOW + 99_000);
  });
});
