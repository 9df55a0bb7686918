/**
 * RelationLists' decisions over in-memory ports: who is marked followed by
 * the viewer and when that needs a lookup, the profile of an unknown user,
 * friends via the fans window (loaded when cold), and follow-backs of users
 * whose following:{B} is cold decided from the fans shard with B's pending
 * entry laid over it. The Redis scripts behind these reads are tested in
 * following-reads.int.test.ts and fans-cache.int.test.ts.
 */
import { describe, expect, it } from "vitest";
import { FansWindow } from "../src/domain/fans-window.js";
import { FollowingLoader } from "../src/domain/following-loader.js";
import type { FansWindowCache, UserDirectory, UserProfile } from "../src/domain/ports.js";
import { RelationLists, type UserListPage } from "../src/domain/relation-lists.js";
import { RelationQueries } from "../src/domain/relation-queries.js";
import { graphShard, InMemoryFollowingCache, InMemoryFollowingReads, InMemoryOutbox, type CallLog, type ShardEdge } from "./in-memory-ports.js";

const A = 1;
const B = 2;
const C = 3;
const D = 4;
const V = 9;

const profile = (id: number): UserProfile => ({ id, name: `u${id}`, avatar: "", backgroundImage: "", signature: "", followCount: 0, followerCount: 0 });

function setup(edges: ShardEdge[], known: readonly number[] = [A, B, C, D, V]) {
  const log: CallLog = [];
  const cache = new InMemoryFollowingCache(log, new InMemoryOutbox(log));
  const reads = new InMemoryFollowingReads(log, cache);
  const store = graphShard(edges);
  const loader = new FollowingLoader(cache, store, 3);
  const fansCache: FansWindowCache = {
    windowSize: 10,
    load: async (b) => {
      log.push(`load fans ${b}`);
      reads.fansWindow = "partial";
      return { status: "loaded", count: 0, complete: false };
    },
    fansPage: async () => ({ status: "not_loaded" }),
  };
  const users: UserDirectory = {
    exists: async () => true,
    profiles: async (ids) => {
      log.push(`profiles ${ids.join(",")}`);
      return new Map(ids.filter((id) => known.includes(id)).map((id) => [id, profile(id)]));
    },
  };
  const queries = new RelationQueries(reads, loader);
  const lists = new RelationLists({ cache: reads, loader, fansWindow: new FansWindow(fansCache, store, 3), queries, store, users });
  return { log, cache, reads, lists };
}

const ids = (p: UserListPage) => p.users.map((u) => u.id);
const follows = (p: UserListPage) => p.users.map((u) => u.isFollow);

describe("RelationLists", () => {
  const aFollows: ShardEdge[] = [
    { from: A, to: B, timeMs: 300 },
    { from: A, to: C, timeMs: 200 },
    { from: A, to: D, timeMs: 100 },
  ];

  it("a user's own following list: every item followed, no is-following lookup of the viewer", async () => {
    const s = setup(aFollows);
    const page = await s.lists.following(A, { cursor: undefined, limit: 10, viewer: A });
    expect(ids(page)).toEqual([B, C, D]);
    expect(follows(page)).toEqual([true, true, true]);
    expect(page.users.map((u) => u.followedAtMs)).toEqual([300, 200, 100]);
    expect(s.log.filter((l) => l === `read ${A}`)).toHaveLength(2); // the not_loaded answer, then the page
  });

  it("no viewer: nothing followed, no lookup; another viewer: looked up in one batch", async () => {
    const s = setup([...aFollows, { from: V, to: C, timeMs: 50 }]);
    expect(follows(await s.lists.following(A, { cursor: undefined, limit: 10, viewer: 0 }))).toEqual([false, false, false]);
    expect(s.log).not.toContain(`read ${V}`);
    expect(follows(await s.lists.following(A, { cursor: undefined, limit: 10, viewer: V }))).toEqual([false, true, false]);
  });

  it("another viewer: the page's own read tells the viewer's follows once the viewer's list is loaded, else one batch lookup (which loads it)", async () => {
    const s = setup([...aFollows, { from: V, to: C, timeMs: 50 }]);
    const req = { cursor: undefined, limit: 10, viewer: V };
    // V's list cold: the page comes without V's follows, the batch lookup loads the list
    expect(follows(await s.lists.following(A, req))).toEqual([false, true, false]);
    expect(s.log).toContain(`read ${V}`);
    s.log.length = 0;
    expect(follows(await s.lists.following(A, req))).toEqual([false, true, false]);
    expect(s.log).toContain(`page ${A} for ${V}`);
    expect(s.log).not.toContain(`read ${V}`);
    // a store that cannot read both lists at once (a Redis Cluster): the batch lookup
    s.reads.pageReadsViewer = false;
    s.log.length = 0;
    expect(follows(await s.lists.following(A, req))).toEqual([false, true, false]);
    expect(s.log).toContain(`read ${V}`);
  });

  it("pages with the keyset cursor and hydrates each page with one profiles call", async () => {
    const s = setup(aFollows);
    const first = await s.lists.following(A, { cursor: undefined, limit: 2, viewer: 0 });
    expect(ids(first)).toEqual([B, C]);
    expect(first.total).toBe(3);
    const second = await s.lists.following(A, { cursor: first.next, limit: 2, viewer: 0 });
    expect(ids(second)).toEqual([D]);
    expect(second.next).toBeUndefined();
    expect(s.log.filter((l) => l.startsWith("profiles"))).toEqual([`profiles ${B},${C}`, `profiles ${D}`]);
  });

  it("a listed user the user service does not know keeps its place with an empty profile", async () => {
    const s = setup(aFollows, [B, D]);
    const page = await s.lists.following(A, { cursor: undefined, limit: 10, viewer: 0 });
    expect(page.users[1]).toMatchObject({ id: C, name: "", followCount: 0, followedAtMs: 200 });
  });

  it("friends: a cold fans window is loaded once, then follow-backs of cold users come from the fans shard with their pending entry over it", async () => {
    const s = setup([
      ...aFollows,
      { from: B, to: A, timeMs: 10, version: 5 }, // B follows A, but B's pending unfollow is newer
      { from: C, to: A, timeMs: 20, version: 5 }, // C follows A
      { from: D, to: A, timeMs: 30, version: 5, active: false }, // D unfollowed A, but D's pending follow is newer
    ]);
    s.cache.user(B).pending.set(A, { to: A, action: "unfollow", version: 6, timeMs: 40, source: 0, prevTimeMs: 10 });
    s.cache.user(D).pending.set(A, { to: A, action: "follow", version: 6, timeMs: 40, source: 0, prevTimeMs: 0 });
    const page = await s.lists.friends(A, { cursor: undefined, limit: 10, viewer: A });
    expect(ids(page)).toEqual([C, D]);
    expect(page.total).toBe(2);
    expect(s.log.filter((l) => l === `load fans ${A}`)).toHaveLength(1);
  });

  it("common following: the viewer's follows who follow the target, newest follow of the viewer first, loaded or not", async () => {
    const s = setup([
      { from: V, to: B, timeMs: 100 },
      { from: V, to: C, timeMs: 300 },
      { from: V, to: D, timeMs: 200 },
      { from: B, to: A, timeMs: 1 },
      { from: C, to: A, timeMs: 1 },
    ]);
    await s.lists.following(C, { cursor: undefined, limit: 1, viewer: 0 }); // loads following:{C}; B and D stay cold
    const page = await s.lists.commonFollowing(V, A, undefined, 10);
    expect(ids(page)).toEqual([C, B]);
    expect(follows(page)).toEqual([true, true]);
    expect(page.users.map((u) => u.followedAtMs)).toEqual([300, 100]);
  });
});
