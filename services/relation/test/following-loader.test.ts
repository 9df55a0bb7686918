/**
 * The loader's one budget of shard reads (LOAD_SHARD_READS): a load read
 * again while the persister clears pending entries, and a load again after
 * an eviction before use, both draw on it. In-memory ports; the Redis side of
 * a contended load is tested in following-load.int.test.ts.
 */
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { relationConfigSchema, RELATION_DEFAULTS } from "../src/config.js";
import { FollowingLoader } from "../src/domain/following-loader.js";
import { emptyShard, InMemoryFollowingCache, InMemoryOutbox, type CallLog } from "./in-memory-ports.js";

const A = 7;

function setup(maxShardReads: number) {
  const log: CallLog = [];
  const cache = new InMemoryFollowingCache(log, new InMemoryOutbox(log));
  const store = emptyShard();
  const loader = new FollowingLoader(cache, store, maxShardReads);
  const isFollowing = () => loader.withLoaded(A, () => cache.applyTransition(A, 9, "unfollow", Date.now(), 0, 10));
  return { cache, store, loader, isFollowing };
}

describe("FollowingLoader's shard reads per request", () => {
  it("a warm key costs no read, a cold one one", async () => {
    const s = setup(5);
    await expect(s.isFollowing()).resolves.toEqual({ status: "noop" });
    expect(s.store.followingReads).toBe(1);
    await s.isFollowing();
    expect(s.store.followingReads).toBe(1);
  });

  it("re-reads while the persister keeps clearing entries mid-load, within the budget", async () => {
    const s = setup(5);
    s.cache.contendedReads = 4;
    await expect(s.isFollowing()).resolves.toEqual({ status: "noop" });
    expect(s.store.followingReads).toBe(5);
  });

  it("gives up with UNAVAILABLE after exactly the budget when every read is overtaken", async () => {
    const s = setup(5);
    s.cache.contendedReads = 100;
    await expect(s.isFollowing()).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(s.store.followingReads).toBe(5);
  });

  it("gives up with UNAVAILABLE after exactly the budget when the key is evicted after every load", async () => {
    const s = setup(5);
    s.cache.evictAfterLoad = true;
    await expect(s.isFollowing()).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(s.store.followingReads).toBe(5);
  });

  it("contended reads and evictions share the one budget (not budget × budget)", async () => {
    const s = setup(4);
    s.cache.contendedReads = 2;
    s.cache.evictAfterLoad = true;
    await expect(s.isFollowing()).rejects.toMatchObject({ code: status.UNAVAILABLE });
    // 2 overtaken + 2 loads evicted before use
    expect(s.store.followingReads).toBe(4);
  });

  it("refuses a budget below one read", () => {
    expect(() => setup(0)).toThrow(RangeError);
  });
});

describe("LOAD_SHARD_READS", () => {
  it("is one setting with a default of 5 reads, described in the schema", () => {
    expect(RELATION_DEFAULTS.LOAD_SHARD_READS).toBe(5);
    const shape = relationConfigSchema.shape.LOAD_SHARD_READS;
    expect(shape.description).toMatch(/shard reads/);
    expect(shape.parse(undefined)).toBe(5);
    expect(shape.parse("12")).toBe(12);
    expect("LOAD_ATTEMPTS" in relationConfigSchema.shape).toBe(false);
  });
});
