/**
 * Loading following:{A} on a miss (shard rows + the pending overlay) while the
 * persister writes the shard and clears pending entries, against the real
 * servers: throwaway shard databases read by the relation service's
 * repository, the real relation-persister consuming a private topic (shard
 * transactions, compare-and-delete of the overlay, persist epoch) and the
 * transitions published by the real publisher, real Redis.
 *
 * The race is made deterministic by ordering its steps: the loader reads the
 * epoch and the shard, then the persister commits and clears, then the loader
 * installs; or the loader's shard read is held in flight by a fault proxy
 * (MariaDB ran it, the reply waits) while the persister commits and clears.
 * Either way the stale rows plus the emptied overlay would lose a follow and
 * resurrect an unfollowed edge: the load must be refused and retried.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "@rs/redis";
import type { RunningProcess } from "@rs/bootstrap";
import { ShardedMysql } from "@rs/mysql";
import { startFaultProxy, type FaultProxy } from "../../../test/support/fault-proxy.js";
import { dsnTarget, dsnThrough } from "../../../test/support/proxied-dsn.js";
import { waitFor } from "../../../test/support/wait-for.js";
import { RelationEventsPublisher } from "../src/adapters/kafka/relation-events.publisher.js";
import { RelationReadsRepository } from "../src/adapters/mysql/relation-reads.repository.js";
import { RelationCache } from "../src/adapters/redis/relation-cache.js";
import type { RelationAction, RelationTransition } from "../src/domain/relation-transition.js";
import { startPersister, type PersisterInternals } from "../src/persister/persister.process.js";
import { createPipelineWorld, logger, sleep, type PipelineWorld } from "./persister-fixture.js";

const CAP = 5_000;
const VIRTUAL_SHARDS = 64;
/** Longer than any stall below: the held read must come back, not time out. */
const HELD_QUERY_TIMEOUT_MS = 30_000;
const PERSIST_WAIT_MS = 20_000;
/** The statement whose reply is held: the active rows of A (the part that goes stale). */
const ROWS_QUERY = "SELECT to_user_id, created_at, version FROM follows";

let w: PipelineWorld;
let persister: RunningProcess & { readonly internals: PersisterInternals };
let proxy: FaultProxy;
let proxied: ShardedMysql;
/** The relation service's shard reads, direct and through the fault proxy. */
let reads: RelationReadsRepository;
let heldReads: RelationReadsRepository;
let publisher: RelationEventsPublisher;
let admin: RedisClient;
let caches: RelationCache[];
/** Events the persister has fully persisted (shards written, overlay cleared), per follower. */
const persistedOf = new Map<number, number>();

const base = 1 + Math.floor(Math.random() * 2 ** 40);
let nextUser = 0;
const freshUser = () => base + ++nextUser * 7919;

beforeAll(async () => {
  w = await createPipelineWorld("following-load");
  proxy = await startFaultProxy(dsnTarget(w.dbs.dsns[0]!));
  proxied = ShardedMysql.create({
    dsns: w.dbs.dsns.map((dsn) => dsnThrough(proxy, dsn)),
    virtualShards: VIRTUAL_SHARDS,
    poolSize: 4,
    logger,
    queryTimeoutMs: HELD_QUERY_TIMEOUT_MS,
  });
  reads = new RelationReadsRepository(w.sharded);
  heldReads = new RelationReadsRepository(proxied);
  publisher = new RelationEventsPublisher(w.producer, w.eventsTopic);
  admin = w.redis.client();
  caches = Array.from({ length: 6 }, () => new RelationCache(w.redis.client(), { keyPrefix: w.redis.prefix }));
  persister = await startPersister(w.config({ MYSQL_VIRTUAL_SHARDS: String(VIRTUAL_SHARDS) }), {
    logger,
    onPersisted: (events) => {
      for (const e of events) persistedOf.set(e.from, (persistedOf.get(e.from) ?? 0) + 1);
    },
  });
});

afterAll(async () => {
  await persister?.stop();
  proxy?.heal();
  await proxied?.close();
  await proxy?.close();
  await w?.cleanup();
});

/** One follow/unfollow decided in Redis (recorded pending), as the relation service does before publishing. */
async function transition(c: RelationCache, a: number, to: number, action: RelationAction): Promise<RelationTransition> {
  const r = await c.applyTransition(a, to, action, Date.now(), 0, CAP);
  if (r.status !== "changed") throw new Error(`${action} ${a}→${to}: ${r.status}`);
  return r.transition;
}

/** Publishes the transitions and waits until the real persister has written them and cleared their pending entries. */
async function persist(c: RelationCache, ts: readonly RelationTransition[]): Promise<void> {
  await publisher.publish(ts);
  await waitFor(
    `the persister to write and clear ${ts.length} transition(s)`,
    async () => {
      for (const t of ts) if ((await c.pendingEntries(t.from)).some((e) => e.to === t.to && e.version === t.version)) return false;
      return true;
    },
    PERSIST_WAIT_MS,
  );
}

const activeInShard = async (a: number) => (await reads.followingSnapshot(a)).rows.map((r) => r.to).sort((x, y) => x - y);
const readFromShard = (a: number) => () => reads.followingSnapshot(a);

describe("load", () => {
  it("installs shard rows plus the pending overlay, newer than the rows", async () => {
    const a = freshUser();
    const c = caches[0]!;
    await c.ensureLoaded(a, readFromShard(a));
    const f1 = await transition(c, a, 1, "follow");
    const f2 = await transition(c, a, 2, "follow");
    await persist(c, [f1, f2]);
    await transition(c, a, 1, "unfollow"); // pending, not in the shard
    const f3 = await transition(c, a, 3, "follow"); // pending, not in the shard
    expect(await activeInShard(a)).toEqual([1, 2]);
    await admin.del(c.keys.following(a));
    expect(await c.isFollowing(a, 1)).toEqual({ status: "not_loaded" });
    expect(await c.ensureLoaded(a, readFromShard(a))).toEqual({ outcome: "loaded", attempts: 1 });
    const page = await c.followingPage(a, undefined, 10);
    expect(page.status === "ok" && page.items).toEqual([
      { id: 3, timeMs: f3.occurredAtMs },
      { id: 2, timeMs: f2.occurredAtMs },
    ]);
    expect(await c.count(a)).toEqual({ status: "ok", count: 2 });
  });

  it("keeps the cold key distinguishable from following nobody", async () => {
    const a = freshUser();
    const c = caches[0]!;
    expect(await c.count(a)).toEqual({ status: "not_loaded" });
    await c.ensureLoaded(a, readFromShard(a));
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

  it("loads a following list at the cap from the shard in one script (chunked ZADD)", async () => {
    const a = freshUser();
    const c = caches[0]!;
    const rows = Array.from({ length: CAP }, (_, i) => [a, i + 1, 0, 1, 1_000 + i, i + 1, 1_000 + i]);
    await w.sharded.poolFor(a).query("INSERT INTO follows (from_user_id, to_user_id, source, status, created_at, version, updated_at) VALUES ?", [rows]);
    expect(await c.ensureLoaded(a, readFromShard(a))).toEqual({ outcome: "loaded", attempts: 1 });
    expect(await c.count(a)).toEqual({ status: "ok", count: CAP });
    expect((await c.applyTransition(a, CAP + 1, "follow", Date.now(), 0, CAP)).status).toBe("cap_exceeded");
  });
});

describe("persist-epoch race", () => {
  /**
   * A with a persisted follow of `gone` and, pending and not yet published, a
   * follow of `added` and an unfollow of `gone`; following:{A} evicted.
   */
  async function pendingPastTheShard(c: RelationCache, a: number, added: number, gone: number): Promise<RelationTransition[]> {
    await c.ensureLoaded(a, readFromShard(a));
    await persist(c, [await transition(c, a, gone, "follow")]);
    const pending = [await transition(c, a, added, "follow"), await transition(c, a, gone, "unfollow")];
    await admin.del(c.keys.following(a));
    return pending;
  }

  it("refuses a load whose shard read the persister overtook (no lost, no resurrected edge), and the retry loads the truth", async () => {
    const a = freshUser();
    const c = caches[0]!;
    const pending = await pendingPastTheShard(c, a, 42, 7);

    // a loader reads the epoch, then the shard (42 not there yet, 7 still active)...
    const { epoch } = await c.readState(a);
    const stale = await reads.followingSnapshot(a);
    expect(stale.rows.map((r) => r.to)).toEqual([7]);
    // ...the real persister writes both transitions and clears them from the overlay...
    await persist(c, pending);
    expect(await activeInShard(a)).toEqual([42]);
    expect(await c.pendingEntries(a)).toEqual([]);
    // ...so the stale rows plus the (now empty) overlay would lose 42 and bring 7 back: refused
    const r = await c.load(a, stale.rows, stale.maxVersion, epoch);
    expect(r.status).toBe("retry");
    expect(r.status === "retry" && r.epoch).not.toBe(epoch);
    expect(await c.isFollowing(a, 42)).toEqual({ status: "not_loaded" });
    expect(await c.ensureLoaded(a, readFromShard(a))).toEqual({ outcome: "loaded", attempts: 1 });
    expect(await c.batchIsFollowing(a, [42, 7])).toEqual({ status: "ok", following: [true, false] });
  });

  it("ensureLoaded retries by itself when the persister commits and clears while its shard read is in flight", async () => {
    const a = freshUser();
    const c = caches[1]!;
    const pending = await pendingPastTheShard(c, a, 43, 8);
    // the pool of A's shard behind the proxy is open, so the held read needs no new connection
    await heldReads.followingSnapshot(a);
    const connections = proxy.connections;

    proxy.stallRepliesFrom(ROWS_QUERY);
    const loading = c.ensureLoaded(a, () => heldReads.followingSnapshot(a));
    try {
      await waitFor("the loader's shard read to reach MariaDB", () => proxy.mode === "stall_replies", 5_000);
      // MariaDB answered the read (8 active, no 43); the loader has not seen it yet
      const { epoch } = await c.readState(a);
      await persist(c, pending);
      expect((await c.readState(a)).epoch).not.toBe(epoch);
      expect(await activeInShard(a)).toEqual([43]);
    } finally {
      proxy.heal();
    }
    const loaded = await loading;
    // neither the new follow lost nor the ended one brought back from the stale read
    expect(await c.batchIsFollowing(a, [43, 8])).toEqual({ status: "ok", following: [true, false] });
    expect(await c.count(a)).toEqual({ status: "ok", count: 1 });
    expect(loaded).toEqual({ outcome: "loaded", attempts: 2 });
    expect(proxy.connections).toBe(connections);
  });

  it("gives up after the configured attempts with a typed error when every read is overtaken", async () => {
    const a = freshUser();
    const c = new RelationCache(w.redis.client(), { keyPrefix: w.redis.prefix, loadMaxAttempts: 3 });
    await c.ensureLoaded(a, readFromShard(a));
    const pending = [await transition(c, a, 100, "follow"), await transition(c, a, 101, "follow"), await transition(c, a, 102, "follow")];
    await admin.del(c.keys.following(a));
    const overtake = [...pending];
    // every read is followed by the persister writing and clearing one more transition before the load
    const readDb = async () => {
      const snap = await reads.followingSnapshot(a);
      await persist(c, [overtake.shift()!]);
      return snap;
    };
    await expect(c.ensureLoaded(a, readDb)).rejects.toThrow(/could not be loaded in 3 attempts/);
    expect(overtake).toEqual([]);
    expect(await c.ensureLoaded(a, readFromShard(a))).toEqual({ outcome: "loaded", attempts: 1 });
    expect(await c.batchIsFollowing(a, [100, 101, 102])).toEqual({ status: "ok", following: [true, true, true] });
  });
});

describe("eviction in the middle of a stream of writes", () => {
  it("reload from the shard plus the overlay loses nothing (concurrent writers, the real persister and evictions)", async () => {
    const a = freshUser();
    const results: RelationTransition[] = [];
    let retries = 0;
    const load = async (c: RelationCache) => {
      const r = await c.ensureLoaded(a, readFromShard(a));
      if (r.attempts > 1) retries += r.attempts - 1;
    };
    const epochMoves = new Set<string>();

    async function writer(wr: number): Promise<void> {
      const c = caches[wr % caches.length]!;
      for (let i = 0; i < 150; i++) {
        const to = 1 + Math.floor(Math.random() * 40);
        const action: RelationAction = Math.random() < 0.6 ? "follow" : "unfollow";
        for (;;) {
          const r = await c.applyTransition(a, to, action, Date.now(), wr, CAP);
          if (r.status === "not_loaded") {
            await load(c);
            continue;
          }
          if (r.status === "changed") {
            // published before the answer, as the service does; the persister consumes it meanwhile
            await publisher.publish([r.transition]);
            results.push(r.transition);
          }
          break;
        }
      }
    }
    let running = true;
    let evictions = 0;
    const evictor = (async () => {
      while (running) {
        await sleep(2 + Math.random() * 6);
        // sometimes the counter goes as well (separate key, separate eviction)
        await admin.del(caches[0]!.keys.following(a), ...(Math.random() < 0.3 ? [caches[0]!.keys.meta(a)] : []));
        evictions++;
        epochMoves.add((await caches[0]!.readState(a)).epoch);
      }
    })();
    await load(caches[0]!);
    try {
      await Promise.all([0, 1, 2, 3].map(writer));
    } finally {
      running = false;
      await evictor;
    }
    // the end state: the persister has written every published transition and cleared the overlay
    await waitFor(`the persister to persist all ${results.length} transitions`, () => (persistedOf.get(a) ?? 0) >= results.length, PERSIST_WAIT_MS);
    await waitFor("the pending overlay of A to be empty", async () => (await caches[0]!.pendingEntries(a)).length === 0, PERSIST_WAIT_MS);

    // Every change was a real one: per followee, in version order, the actions
    // alternate follow, unfollow, follow... A load that lost a transition would
    // let the next request repeat it (two follows in a row).
    const byPair = new Map<number, RelationTransition[]>();
    for (const t of results) byPair.set(t.to, [...(byPair.get(t.to) ?? []), t]);
    for (const list of byPair.values()) {
      list.sort((x, y) => x.version - y.version);
      list.forEach((t, i) => expect(t.action, `transition ${i} of ${a}→${t.to}`).toBe(i % 2 === 0 ? "follow" : "unfollow"));
    }
    // the truth: per followee, the action of its highest version
    const last = new Map<number, RelationTransition>();
    for (const t of results) if ((last.get(t.to)?.version ?? -1) < t.version) last.set(t.to, t);
    const expected = [...last.values()]
      .filter((t) => t.action === "follow")
      .map((t) => t.to)
      .sort((x, y) => x - y);

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
    // and the shard the persister wrote is the same state
    expect(await activeInShard(a)).toEqual(expected);
    expect(evictions).toBeGreaterThan(5);
    expect(epochMoves.size).toBeGreaterThan(1);
    expect(results.length).toBeGreaterThan(100);
    console.info(`stream: ${results.length} transitions, ${evictions} evictions, ${epochMoves.size} epochs seen, ${retries} load retries`);
  }, 60_000);
});
