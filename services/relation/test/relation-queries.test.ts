/**
 * RelationQueries over in-memory ports: a cold following:{A} is loaded once
 * and read again, an empty batch reads nothing, mutual is both directions.
 * The ZMSCORE read itself is tested in following-reads.int.test.ts.
 */
import { describe, expect, it } from "vitest";
import { FollowingLoader } from "../src/domain/following-loader.js";
import { RelationQueries } from "../src/domain/relation-queries.js";
import { graphShard, InMemoryFollowingCache, InMemoryFollowingReads, InMemoryOutbox, type CallLog, type ShardEdge } from "./in-memory-ports.js";

function setup(edges: ShardEdge[]) {
  const log: CallLog = [];
  const cache = new InMemoryFollowingCache(log, new InMemoryOutbox(log));
  const store = graphShard(edges);
  const queries = new RelationQueries(new InMemoryFollowingReads(log, cache), new FollowingLoader(cache, store, 3));
  return { log, store, queries };
}

describe("RelationQueries", () => {
  it("loads a cold following:{A} once, then answers from it", async () => {
    const s = setup([{ from: 1, to: 2, timeMs: 10 }]);
    expect(await s.queries.isFollowing(1, 2)).toBe(true);
    expect(await s.queries.isFollowing(1, 3)).toBe(false);
    expect(s.store.followingReads).toBe(1);
    expect(s.log).toEqual(["read 1", "load 1", "read 1", "read 1"]);
  });

  it("answers a batch in the targets' order, and an empty batch without reading", async () => {
    const s = setup([
      { from: 1, to: 2, timeMs: 10 },
      { from: 1, to: 4, timeMs: 20 },
    ]);
    expect(await s.queries.batchIsFollowing(1, [])).toEqual([]);
    expect(s.log).toEqual([]);
    expect(await s.queries.batchIsFollowing(1, [4, 3, 2])).toEqual([true, false, true]);
  });

  it("mutual only when both directions hold", async () => {
    const s = setup([
      { from: 1, to: 2, timeMs: 10 },
      { from: 2, to: 1, timeMs: 20 },
      { from: 1, to: 3, timeMs: 30 },
    ]);
    expect(await s.queries.isMutual(1, 2)).toEqual({ aFollowsB: true, bFollowsA: true, mutual: true });
    expect(await s.queries.isMutual(1, 3)).toEqual({ aFollowsB: true, bFollowsA: false, mutual: false });
  });
});
