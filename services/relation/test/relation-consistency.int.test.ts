/**
 * The write path's promises under concurrency, through real instances: one
 * edge and one event for concurrent identical follows; flapping through two
 * instances leaves the last acknowledged state with exactly one event per
 * transition; evicting the cache mid-stream loses nothing; and paging while
 * the list changes neither repeats nor skips what existed throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { relationV1 } from "@rs/idl";
import { createWorld, seedEdge, seedFans, sleep, type RelationInstance, type World } from "./relation-harness.js";

const { ACTION_FOLLOW, ACTION_UNFOLLOW } = relationV1.RelationEvent_Action;
const FANS_WINDOW = 20;

let w: World;
let one: RelationInstance;
let two: RelationInstance;
let u: number[];

beforeAll(async () => {
  w = await createWorld("consistency");
  // The eviction test deletes following:{A} every few ms on purpose; enough
  // reload attempts that a request is never starved into UNAVAILABLE by it
  // (that limit is for real contention, and is tested in following-load).
  const env = { FANS_WINDOW: String(FANS_WINDOW), LOAD_SHARD_READS: "20" };
  [one, two] = [await w.relation(env), await w.relation(env)];
  u = await w.registerUsers(14);
});
afterAll(() => w?.cleanup());

const pairEvents = (events: relationV1.RelationEvent[], a: number, b: number) => events.filter((e) => e.fromUserId === a && e.toUserId === b);

describe("concurrent writes", () => {
  it("200 concurrent identical follows over two instances: one changes, one edge, one event", async () => {
    const [a, b] = [u[0]!, u[1]!];
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? one : two).client.follow({ fromUserId: a, toUserId: b, source: 1 })),
    );
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    const list = await one.client.listFollowing({ userId: a, cursor: "", limit: 100, viewerId: 0 });
    expect(list.users.map((x) => x.id)).toEqual([b]);
    const fans = await two.client.listFans({ userId: b, cursor: "", limit: 100, viewerId: 0 });
    expect(fans.users.map((x) => x.id)).toEqual([a]);
    const events = pairEvents(await w.readEvents(), a, b);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: ACTION_FOLLOW, source: 1 });
  });

  it("flapping follow/unfollow on one pair through two instances: final state = last acknowledged request; events = transitions", async () => {
    const [a, b] = [u[2]!, u[3]!];
    let transitions = 0;
    const send = async (inst: RelationInstance, follow: boolean) => {
      const r = follow ? await inst.client.follow({ fromUserId: a, toUserId: b, source: 2 }) : await inst.client.unfollow({ fromUserId: a, toUserId: b });
      if (r.changed) transitions++;
    };
    // a storm: both instances, many requests in flight at once. A no-op whose in-flight transition
    // keeps being replaced gives up after its bounded joins with UNAVAILABLE, having changed nothing
    // (the writer's JOIN_ATTEMPTS); a loaded machine makes that likelier. Any other error fails the test.
    let gaveUp = 0;
    const stormSend = (inst: RelationInstance, follow: boolean) =>
      send(inst, follow).catch((err: { code?: number; details?: string }) => {
        if (err.code !== status.UNAVAILABLE || !/keeps being changed by concurrent requests/.test(err.details ?? "")) throw err;
        gaveUp++;
      });
    await Promise.all(Array.from({ length: 300 }, (_, i) => stormSend(i % 2 === 0 ? one : two, Math.random() < 0.5)));
    expect(gaveUp).toBeLessThan(150);
    // then one request at a time, alternating instances: after each ack, the state is that request's
    // A fixed pattern with repeats: most requests flip the edge (so the run has
    // many transitions whatever the storm left), the repeats must be no-ops.
    const pattern = [true, false, false, true, true, false];
    let last = false;
    for (let i = 0; i < 42; i++) {
      last = pattern[i % pattern.length]!;
      await send(i % 2 === 0 ? one : two, last);
      expect((await (i % 2 === 0 ? two : one).client.isFollowing({ fromUserId: a, toUserId: b })).following).toBe(last);
    }
    expect((await one.client.isFollowing({ fromUserId: a, toUserId: b })).following).toBe(last);

    const events = pairEvents(await w.readEvents(), a, b);
    expect(transitions).toBeGreaterThan(20);
    expect(events).toHaveLength(transitions);
    // one key, one partition: Kafka holds them in version order, alternating, ending in the final state
    const versions = events.map((e) => e.version);
    expect(new Set(versions).size).toBe(events.length);
    const sorted = [...events].sort((x, y) => x.version - y.version);
    sorted.forEach((e, i) => expect(e.action).toBe(i % 2 === 0 ? ACTION_FOLLOW : ACTION_UNFOLLOW));
    expect(sorted[sorted.length - 1]!.action).toBe(last ? ACTION_FOLLOW : ACTION_UNFOLLOW);
    // Redis's pending overlay holds the newest transition of the pair: the last event
    const pending = await one.internals.cache.pendingEntries(a);
    expect(pending.find((p) => p.to === b)?.version).toBe(sorted[sorted.length - 1]!.version);
  });

  it("evicting following:{A} in the middle of a stream of writes loses nothing (shard rows + pending overlay)", async () => {
    const a = 9_100_000_001;
    const persisted = [u[4]!, u[5]!];
    for (const [i, b] of persisted.entries()) await seedEdge(w, a, b, Date.now() - 100_000 + i, 1_000 + i);
    const targets = u.slice(0, 10).filter((x) => !persisted.includes(x));
    const cache = one.internals.cache;
    let evictions = 0;
    let writing = true;
    const evictor = (async () => {
      while (writing) {
        evictions += await w.admin.del(cache.keys.following(a), cache.keys.meta(a));
        await sleep(3);
      }
    })();
    // follow everyone, unfollow the first two persisted ones, re-follow one of them: many transitions, two instances
    const ops: (() => Promise<unknown>)[] = [
      ...targets.map((b, i) => () => (i % 2 ? one : two).client.follow({ fromUserId: a, toUserId: b, source: 0 })),
      () => two.client.unfollow({ fromUserId: a, toUserId: persisted[0]! }),
    ];
    for (let round = 0; round < 3; round++) {
      await Promise.all(ops.map((op) => op()));
    }
    await one.client.follow({ fromUserId: a, toUserId: persisted[0]!, source: 0 });
    await one.client.unfollow({ fromUserId: a, toUserId: persisted[1]! });
    writing = false;
    await evictor;
    expect(evictions).toBeGreaterThan(3);
    await w.admin.del(cache.keys.following(a), cache.keys.meta(a));

    const expected = new Set([...targets, persisted[0]!]);
    const list = await two.client.listFollowing({ userId: a, cursor: "", limit: 100, viewerId: 0 });
    expect(new Set(list.users.map((x) => x.id))).toEqual(expected);
    expect(list.totalCount).toBe(expected.size);
    // each real change had one event, each with its own version
    const events = (await w.readEvents()).filter((e) => e.fromUserId === a);
    expect(events).toHaveLength(targets.length + 3); // follows, unfollow p0, follow p0, unfollow p1
    expect(new Set(events.map((e) => e.version)).size).toBe(events.length);
    expect(Math.min(...events.map((e) => e.version))).toBeGreaterThan(1_001);
  });
});

describe("paging while the list changes", () => {
  /** Pages through `fetch` with `limit`, running `mutate` between pages. */
  async function pageAll(fetch: (cursor: string) => Promise<relationV1.ListFansResponse>, mutate: () => Promise<void>) {
    const seen: number[] = [];
    let cursor = "";
    for (let pages = 0; pages < 1_000; pages++) {
      const r = await fetch(cursor);
      seen.push(...r.users.map((x) => x.id));
      await mutate();
      if (r.nextCursor === "") return seen;
      cursor = r.nextCursor;
    }
    throw new Error("paging did not end");
  }

  it("fans beyond the cached window come from the shard with the same cursor, in order, with the persisted total", async () => {
    const b = u[12]!;
    const base = Date.now() - 3_600_000;
    // 120 fans, some sharing a follow time (ties ordered by id)
    const fans = Array.from({ length: 120 }, (_, i) => ({ from: 8_000_000_000 + i, timeMs: base + Math.floor(i / 3) * 1_000 }));
    await seedFans(w, b, fans);
    const expected = [...fans].sort((x, y) => y.timeMs - x.timeMs || y.from - x.from).map((f) => f.from);
    const seen = await pageAll(
      (cursor) => one.client.listFans({ userId: b, cursor, limit: 7, viewerId: 0 }),
      async () => undefined,
    );
    expect(seen).toEqual(expected);
    const first = await two.client.listFans({ userId: b, cursor: "", limit: 1, viewerId: 0 });
    expect(first.totalCount).toBe(120);
  });

  it("ListFans: no duplicates, nothing that existed throughout skipped, while fans come and go", async () => {
    const b = u[13]!;
    const base = Date.now() - 3_600_000;
    const fans = Array.from({ length: 150 }, (_, i) => ({ from: 8_100_000_000 + i, timeMs: base + i * 1_000 }));
    await seedFans(w, b, fans);
    const leaving = new Set<number>();
    let newcomer = 8_200_000_000;
    const mutate = async () => {
      // three new fans (newest: they push the oldest out of the window) and one leaves
      for (let i = 0; i < 3; i++) await two.client.follow({ fromUserId: newcomer++, toUserId: b, source: 0 });
      const gone = fans[Math.floor(Math.random() * fans.length)]!.from;
      leaving.add(gone);
      await one.client.unfollow({ fromUserId: gone, toUserId: b });
    };
    const seen = await pageAll((cursor) => (Math.random() < 0.5 ? one : two).client.listFans({ userId: b, cursor, limit: 6, viewerId: 0 }), mutate);
    expect(new Set(seen).size).toBe(seen.length);
    const throughout = fans.map((f) => f.from).filter((f) => !leaving.has(f));
    const seenSet = new Set(seen);
    expect(throughout.filter((f) => !seenSet.has(f))).toEqual([]);
    expect(leaving.size).toBeGreaterThan(10);
  });

  it("ListFollowing: no duplicates, nothing that existed throughout skipped, while follows come and go", async () => {
    const a = 9_200_000_001;
    const base = Date.now() - 3_600_000;
    const persisted = Array.from({ length: 90 }, (_, i) => 7_000_000_000 + i);
    for (const [i, b] of persisted.entries()) await seedEdge(w, a, b, base + Math.floor(i / 2) * 1_000, 100 + i);
    const extra = u.slice(0, 12);
    let next = 0;
    const leaving = new Set<number>();
    const mutate = async () => {
      const target = extra[next++ % extra.length]!;
      await one.client.follow({ fromUserId: a, toUserId: target, source: 0 });
      const gone = persisted[Math.floor(Math.random() * persisted.length)]!;
      leaving.add(gone);
      await two.client.unfollow({ fromUserId: a, toUserId: gone });
    };
    const seen = await pageAll((cursor) => one.client.listFollowing({ userId: a, cursor, limit: 8, viewerId: 0 }), mutate);
    expect(new Set(seen).size).toBe(seen.length);
    const seenSet = new Set(seen);
    expect(persisted.filter((p) => !leaving.has(p) && !seenSet.has(p))).toEqual([]);
  });
});
