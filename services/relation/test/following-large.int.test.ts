/**
 * Following lists past FOLLOWING_INDEX_MIN follows (docs/adr/0019-compact-following-lists.md):
 * following:{A} stays a listpack (the stack's zset-max-listpack-entries
 * covers the cap) and gets a membership index beside it, following-ix:{A} (an
 * intset), which is-following reads instead of scanning the listpack. Checked:
 * reads, pages and writes on a big list, a list growing past the threshold,
 * each key of the pair evicted alone (a reload, never a wrong answer), and the
 * memory per edge of a list at the following cap.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "@rs/redis";
import { RelationCache, type FollowRow } from "../src/adapters/redis/relation-cache.js";
import { FOLLOWING_INDEX_MIN } from "../src/adapters/redis/relation-keys.js";
import type { CursorPosition } from "../src/domain/cursor.js";
import { redisFixture, type RedisFixture } from "./redis-fixture.js";

const CAP = 5_000;
/** Ids like the service's (snowflake-sized), spaced so they are not contiguous. */
const BASE = 1_900_000_000_000 * 4096;
const T0 = 1_764_000_000_000;

let fx: RedisFixture;
let admin: RedisClient;
let cache: RelationCache;
let nextUser = 71_000;
const freshUser = () => ++nextUser;

beforeAll(() => {
  fx = redisFixture();
  admin = fx.client();
  cache = new RelationCache(fx.client(), { keyPrefix: fx.prefix });
});
afterAll(() => fx.cleanup());

/** `n` follows, some sharing a follow time (ties are ordered by id). */
function rowsOf(n: number, first = 0): FollowRow[] {
  return Array.from({ length: n }, (_, i) => ({
    to: BASE + (first + i) * 4_099 + 7,
    timeMs: T0 + Math.floor((first + i) / 3) * 1_000,
    version: first + i + 1,
  }));
}

const newestFirst = (rows: readonly { to: number; timeMs: number }[]): CursorPosition[] =>
  rows.map((r) => ({ id: r.to, timeMs: r.timeMs })).sort((x, y) => y.timeMs - x.timeMs || y.id - x.id);

async function loadRows(a: number, rows: readonly FollowRow[]): Promise<{ reads: number }> {
  let reads = 0;
  await cache.ensureLoaded(a, async () => {
    reads++;
    return { rows: [...rows], maxVersion: rows.length };
  });
  return { reads };
}

async function isFollowing(a: number, b: number): Promise<boolean> {
  const r = await cache.isFollowing(a, b);
  if (r.status !== "ok") throw new Error(`is-following ${a}→${b}: ${r.status}`);
  return r.following;
}

async function layout(a: number) {
  const [sentinel, encoding, ixEncoding, ixSize] = await Promise.all([
    admin.zscore(cache.keys.following(a), "#"),
    admin.object("ENCODING", cache.keys.following(a)),
    admin.object("ENCODING", cache.keys.followingIndex(a)),
    admin.scard(cache.keys.followingIndex(a)),
  ]);
  return { sentinel, encoding, ixEncoding, ixSize };
}

/** Every page of `limit` from the start, joined. */
async function pages(a: number, limit: number): Promise<CursorPosition[]> {
  const out: CursorPosition[] = [];
  let cursor: CursorPosition | undefined;
  for (;;) {
    const p = await cache.followingPage(a, cursor, limit);
    if (p.status !== "ok") throw new Error(p.status);
    out.push(...p.items);
    if (!p.next) return out;
    cursor = p.next;
  }
}

describe(`a list past ${FOLLOWING_INDEX_MIN} follows`, () => {
  it("is loaded with its index exactly when it has more than the threshold, and answers batches from either", async () => {
    for (const n of [1, FOLLOWING_INDEX_MIN, FOLLOWING_INDEX_MIN + 1, 60, 200]) {
      const a = freshUser();
      const rows = rowsOf(n);
      await loadRows(a, rows);
      const indexed = n > FOLLOWING_INDEX_MIN;
      expect(await layout(a)).toMatchObject(
        indexed ? { sentinel: "-1", encoding: "listpack", ixEncoding: "intset", ixSize: n + 1 } : { sentinel: "0", ixSize: 0 },
      );
      const targets = [...rows.map((r) => r.to), ...rows.map((r) => r.to + 2)].slice(0, 100);
      const r = await cache.batchIsFollowing(a, targets);
      if (r.status !== "ok") throw new Error(r.status);
      expect(r.following).toEqual(targets.map((t) => rows.some((row) => row.to === t)));
    }
  });

  it("stays a listpack with an intset index, and reads, batches and pages answer as the rows say", async () => {
    const a = freshUser();
    const rows = rowsOf(300);
    await loadRows(a, rows);
    expect(await layout(a)).toEqual({ sentinel: "-1", encoding: "listpack", ixEncoding: "intset", ixSize: 301 });

    const members = rows.map((r) => r.to);
    const strangers = rows.map((r) => r.to + 1);
    for (const b of [members[0]!, members[150]!, members[299]!]) expect(await isFollowing(a, b)).toBe(true);
    for (const b of [strangers[0]!, 1, 2 ** 53 - 1]) expect(await isFollowing(a, b)).toBe(false);

    const targets = [...members.slice(0, 500), ...strangers.slice(0, 200)].sort((x, y) => ((x * 7) % 13) - ((y * 7) % 13));
    const batch = await cache.batchIsFollowing(a, targets);
    expect(batch).toEqual({ status: "ok", following: targets.map((t) => members.includes(t)) });

    const want = newestFirst(rows);
    expect(await pages(a, 20)).toEqual(want);
    expect(await pages(a, 7)).toEqual(want);
    expect(await cache.count(a)).toEqual({ status: "ok", count: 300 });
    expect(await cache.allFollowing(a)).toEqual({ status: "ok", items: want });

    // followsTarget: a candidate's big list answers whether it holds the target
    const [b1, b2] = [freshUser(), freshUser()];
    await loadRows(b1, [...rowsOf(200), { to: a, timeMs: T0, version: 999 }]);
    await loadRows(b2, rowsOf(200));
    const r = await cache.followsTarget(a, [
      { id: b1, timeMs: 1 },
      { id: b2, timeMs: 2 },
    ]);
    expect(r.found.map((x) => x.id)).toEqual([b1]);
    expect(r.unresolved).toEqual([]);
  });

  it("follows, unfollows and undoes keep the list and its index in step (and the same lifetime)", async () => {
    const a = freshUser();
    const rows = rowsOf(200);
    await loadRows(a, rows);
    const now = Date.now();
    const newcomer = BASE + 1;
    const gone = rows[10]!;

    const f = await cache.applyTransition(a, newcomer, "follow", now, 0, CAP);
    expect(f.status).toBe("changed");
    expect(await cache.applyTransition(a, newcomer, "follow", now + 1, 0, CAP)).toEqual({ status: "noop" });
    const u = await cache.applyTransition(a, gone.to, "unfollow", now + 2, 0, CAP);
    expect(u.status).toBe("changed");
    expect(await cache.applyTransition(a, gone.to, "unfollow", now + 3, 0, CAP)).toEqual({ status: "noop" });
    expect(await cache.applyTransition(a, BASE + 3, "unfollow", now + 3, 0, CAP)).toEqual({ status: "noop" });
    expect(await cache.applyTransition(a, BASE + 5, "follow", now + 3, 0, 200)).toEqual({ status: "cap_exceeded" });

    expect(await isFollowing(a, newcomer)).toBe(true);
    expect(await isFollowing(a, gone.to)).toBe(false);
    expect(await admin.sismember(cache.keys.followingIndex(a), String(newcomer))).toBe(1);
    expect(await admin.sismember(cache.keys.followingIndex(a), String(gone.to))).toBe(0);
    let want = newestFirst([...rows.filter((r) => r !== gone), { to: newcomer, timeMs: now }]);
    expect(await pages(a, 50)).toEqual(want);

    // the two publishes failed: undone, the unfollowed edge back at its old time
    if (f.status !== "changed" || u.status !== "changed") throw new Error("not changed");
    expect((await cache.undoTransition(a, gone.to, u.version, now + 4)).status).toBe("changed");
    expect((await cache.undoTransition(a, newcomer, f.version, now + 5)).status).toBe("changed");
    expect(await isFollowing(a, newcomer)).toBe(false);
    expect(await isFollowing(a, gone.to)).toBe(true);
    want = newestFirst(rows);
    expect(await pages(a, 50)).toEqual(want);
    expect(await layout(a)).toEqual({ sentinel: "-1", encoding: "listpack", ixEncoding: "intset", ixSize: 201 });

    // one lifetime for both keys, refreshed together by a write
    await admin.pexpire(cache.keys.following(a), 5_000);
    await admin.pexpire(cache.keys.followingIndex(a), 5_000);
    expect((await cache.applyTransition(a, newcomer, "follow", now + 6, 0, CAP)).status).toBe("changed");
    const [tf, ti] = await Promise.all([admin.pttl(cache.keys.following(a)), admin.pttl(cache.keys.followingIndex(a))]);
    expect(tf).toBeGreaterThan(60_000);
    expect(Math.abs(tf - ti)).toBeLessThan(1_000);
  });

  it("has no index up to the threshold, gets it when follows take the list past it, and keeps it when unfollows take it back", async () => {
    const a = freshUser();
    const rows = rowsOf(FOLLOWING_INDEX_MIN - 1);
    await loadRows(a, rows);
    expect(await layout(a)).toMatchObject({ sentinel: "0", encoding: "listpack", ixSize: 0 });
    const now = Date.now();
    const added = [BASE + 11, BASE + 13];
    for (const [i, b] of added.entries()) expect((await cache.applyTransition(a, b, "follow", now + i, 0, CAP)).status).toBe("changed");
    expect(await layout(a)).toEqual({ sentinel: "-1", encoding: "listpack", ixEncoding: "intset", ixSize: FOLLOWING_INDEX_MIN + 2 });
    const [tf, ti] = await Promise.all([admin.pttl(cache.keys.following(a)), admin.pttl(cache.keys.followingIndex(a))]);
    expect(Math.abs(tf - ti)).toBeLessThan(1_000);

    for (const b of [...added, rows[0]!.to, rows[FOLLOWING_INDEX_MIN - 2]!.to]) expect(await isFollowing(a, b)).toBe(true);
    expect(await isFollowing(a, BASE + 12)).toBe(false);

    for (const [i, b] of added.entries()) expect((await cache.applyTransition(a, b, "unfollow", now + 10 + i, 0, CAP)).status).toBe("changed");
    expect(await layout(a)).toEqual({ sentinel: "-1", encoding: "listpack", ixEncoding: "intset", ixSize: FOLLOWING_INDEX_MIN });
    expect(await isFollowing(a, added[0]!)).toBe(false);
    expect(await pages(a, 100)).toEqual(newestFirst(rows));
  });
});

describe("a big list with one of its keys evicted", () => {
  for (const which of ["following", "index"] as const) {
    it(`reloads when ${which === "following" ? "following:{A}" : "following-ix:{A}"} alone is gone, never answering from the rest`, async () => {
      const a = freshUser();
      const rows = rowsOf(400);
      expect((await loadRows(a, rows)).reads).toBe(1);
      const key = which === "following" ? cache.keys.following(a) : cache.keys.followingIndex(a);
      const member = rows[5]!.to;

      await admin.del(key);
      expect(await cache.readState(a)).toMatchObject({ loaded: false });
      expect(await cache.isFollowing(a, member)).toEqual({ status: "not_loaded" });
      expect(await cache.batchIsFollowing(a, [member, 1])).toEqual({ status: "not_loaded" });
      expect(await cache.applyTransition(a, BASE + 1, "follow", Date.now(), 0, CAP)).toEqual({ status: "not_loaded" });
      const r = await cache.followsTarget(member, [{ id: a, timeMs: 1 }]);
      expect(r.found).toEqual([]);
      expect(r.unresolved.map((x) => x.id)).toEqual([a]);

      // the load rebuilds both from the rows
      expect((await loadRows(a, rows)).reads).toBe(1);
      expect(await layout(a)).toEqual({ sentinel: "-1", encoding: "listpack", ixEncoding: "intset", ixSize: 401 });
      expect(await isFollowing(a, member)).toBe(true);
      expect(await isFollowing(a, member + 1)).toBe(false);
      expect(await pages(a, 100)).toEqual(newestFirst(rows));
    });
  }

  it("an undo on a list whose index is gone drops what is left, and the load applies the undo", async () => {
    const a = freshUser();
    const rows = rowsOf(200);
    await loadRows(a, rows);
    const b = BASE + 17;
    const f = await cache.applyTransition(a, b, "follow", Date.now(), 0, CAP);
    if (f.status !== "changed") throw new Error(f.status);
    await admin.del(cache.keys.followingIndex(a));
    expect((await cache.undoTransition(a, b, f.version, Date.now())).status).toBe("changed");
    expect(await admin.exists(cache.keys.following(a), cache.keys.followingIndex(a))).toBe(0);
    await loadRows(a, rows);
    expect(await isFollowing(a, b)).toBe(false);
    expect(await cache.count(a)).toEqual({ status: "ok", count: 200 });
  });
});

describe("memory of a list at the following cap", () => {
  it("costs under 40 B per edge over following:{A} and its index", async () => {
    const a = freshUser();
    const started = performance.now();
    await loadRows(a, rowsOf(CAP));
    const loadMs = performance.now() - started;
    expect(await layout(a)).toEqual({ sentinel: "-1", encoding: "listpack", ixEncoding: "intset", ixSize: CAP + 1 });
    let bytes = 0;
    for (const key of [cache.keys.following(a), cache.keys.followingIndex(a)]) bytes += Number(await admin.memory("USAGE", key, "SAMPLES", "0"));
    expect(bytes / CAP).toBeLessThan(40);
    // built as a skiplist and copied into a listpack: not one listpack insert per follow (75 ms measured for 5 000)
    expect(loadMs).toBeLessThan(2_000);
    expect(await admin.exists(cache.keys.followingTmp(a))).toBe(0);
    expect(await isFollowing(a, BASE + 4_999 * 4_099 + 7)).toBe(true);
  });
});
