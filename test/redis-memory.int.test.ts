/**
 * Redis's memory bound (deploy/stack/redis-memory.ts): the local stack and
 * compose run Redis with the same maxmemory policy and listpack size, and a
 * redis-server started with those arguments (a private one, with a small
 * maxmemory) behaves as docs/reliability.md says: filled past the bound it
 * evicts cache keys (they have a lifetime) and never the relation pending
 * overlay or outboxes (they have none), a full 512-field counter bucket stays
 * a listpack, and with nothing left to evict writes fail with OOM.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisClusterNodes, redis as stackRedis } from "../deploy/stack/infra.js";
import {
  REDIS_HASH_MAX_LISTPACK_ENTRIES,
  REDIS_MAXMEMORY_POLICY,
  REDIS_SET_MAX_INTSET_ENTRIES,
  REDIS_ZSET_MAX_LISTPACK_ENTRIES,
  redisMemoryArgs,
} from "../deploy/stack/redis-memory.js";
import { createLogger } from "../pkg/logger/src/index.js";
import { closeRedis, createRedis } from "../pkg/redis/src/index.js";
import { COUNT_CACHE_DEFAULTS } from "../services/count/src/adapters/redis/counter-cache.js";
import { RelationCache } from "../services/relation/src/adapters/redis/relation-cache.js";
import { RELATION_DEFAULTS } from "../services/relation/src/config.js";
import { argv, interpolate, loadComposeFiles, mergeServices } from "./compose-model.js";
import { privateRedis, type PrivateRedis } from "./support/private-redis.js";

type Redis = ReturnType<typeof createRedis>;

const MAXMEMORY_BYTES = 16 * 1024 * 1024;
const USERS = 300;
const CAP = 5_000;
const FILLER_VALUE = "x".repeat(4 * 1024);
/** Cache-like keys written: several times the bound. */
const FILLER_KEYS = (4 * MAXMEMORY_BYTES) / FILLER_VALUE.length;

/** The value following `flag` in an argument list. */
const after = (args: readonly string[], flag: string) => args[args.indexOf(flag) + 1];

describe("Redis memory settings of the local stack and compose", () => {
  it("both bound memory with the same policy and encoding limits, which the counter cache and the following lists rely on", () => {
    const stack = stackRedis.spec().args ?? [];
    const compose = argv(mergeServices(loadComposeFiles()).redis!.command).map((a) => interpolate(a, {}));
    // with RS_REDIS_CLUSTER=1 each master of the stack's cluster has the same bound
    for (const args of [stack, ...redisClusterNodes.map((n) => n.spec().args), compose]) {
      expect(after(args, "--maxmemory")).toMatch(/^\d+(mb|gb)$/);
      expect(after(args, "--maxmemory-policy")).toBe(REDIS_MAXMEMORY_POLICY);
      expect(after(args, "--hash-max-listpack-entries")).toBe(String(REDIS_HASH_MAX_LISTPACK_ENTRIES));
      expect(after(args, "--zset-max-listpack-entries")).toBe(String(REDIS_ZSET_MAX_LISTPACK_ENTRIES));
      expect(after(args, "--set-max-intset-entries")).toBe(String(REDIS_SET_MAX_INTSET_ENTRIES));
    }
    expect(REDIS_MAXMEMORY_POLICY).toMatch(/^volatile-/);
    expect(COUNT_CACHE_DEFAULTS.bucketFields).toBeLessThanOrEqual(REDIS_HASH_MAX_LISTPACK_ENTRIES);
    // a following list at the cap, with its sentinel, stays a listpack with an intset index (ADR 19)
    expect(RELATION_DEFAULTS.FOLLOWING_CAP + 1).toBeLessThanOrEqual(Math.min(REDIS_ZSET_MAX_LISTPACK_ENTRIES, REDIS_SET_MAX_INTSET_ENTRIES));
  });
});

describe("a redis-server with those settings at its bound", () => {
  let server: PrivateRedis;
  let client: Redis;

  beforeAll(async () => {
    server = await privateRedis(redisMemoryArgs(String(MAXMEMORY_BYTES)));
    client = createRedis(server.url, { name: "redis-memory-test", logger: createLogger("redis-memory-test", "silent") });
    const c = client;
    await new Promise<void>((resolve) => (c.status === "ready" ? resolve() : c.once("ready", () => resolve())));
  });
  afterAll(async () => {
    if (client) await closeRedis(client);
    await server?.destroy();
  });

  it("evicts keys with a lifetime, never the pending overlay or the outboxes", async () => {
    const cache = new RelationCache(client, { keyPrefix: "rs:rel:" });
    const users = Array.from({ length: USERS }, (_, i) => 1_000 + i);
    // every user: one transition pending, one failed one undone and queued in the outbox
    for (const a of users) {
      await cache.ensureLoaded(a, async () => ({ rows: [], maxVersion: 0 }));
      const kept = await cache.applyTransition(a, 1, "follow", Date.now(), 0, CAP);
      const failed = await cache.applyTransition(a, 2, "follow", Date.now(), 0, CAP);
      if (kept.status !== "changed" || failed.status !== "changed") throw new Error("transition not applied");
      expect((await cache.undoTransition(a, 2, failed.version, Date.now())).status).toBe("changed");
    }
    const pendingBefore = await Promise.all(users.map((a) => client.hgetall(cache.keys.pending(a))));
    const outboxBefore = await Promise.all(users.map((a) => client.lrange(cache.keys.outbox(a), 0, -1)));

    // caches (with a lifetime) written far past the bound: all accepted, the oldest evicted
    for (let i = 0; i < FILLER_KEYS; i += 100) {
      const p = client.pipeline();
      for (let j = i; j < i + 100; j++) p.set(`rs:cache:${j}`, FILLER_VALUE, "PX", 3_600_000 + j);
      for (const [err] of (await p.exec()) ?? []) expect(err).toBeNull();
    }
    const stats = await client.info("stats");
    expect(Number(/evicted_keys:(\d+)/.exec(stats)?.[1])).toBeGreaterThan(0);
    const memory = await client.info("memory");
    expect(Number(/used_memory:(\d+)/.exec(memory)?.[1])).toBeLessThanOrEqual(MAXMEMORY_BYTES * 1.1);

    // every pending overlay and outbox entry is still there, unchanged
    expect(await Promise.all(users.map((a) => client.hgetall(cache.keys.pending(a))))).toEqual(pendingBefore);
    expect(await Promise.all(users.map((a) => client.lrange(cache.keys.outbox(a), 0, -1)))).toEqual(outboxBefore);
    expect(await client.zcard(cache.keys.outboxIndex())).toBe(USERS);
  });

  it("keeps a full counter bucket (512 fields) listpack-encoded", async () => {
    // start from an empty server: the test before left it at its memory bound,
    // where the next write would evict this key (it has the shortest TTL)
    await client.flushall();
    const key = "rs:cnt:user:follower:0";
    const fields = Array.from({ length: REDIS_HASH_MAX_LISTPACK_ENTRIES }, (_, i) => [String(7_000_000_000_000 + i), String(i)]).flat();
    await client.hset(key, ...fields);
    await client.pexpire(key, 3_600_000);
    expect(await client.object("ENCODING", key)).toBe("listpack");
    // one more field than the setting and Redis converts it: the bound is the configured one
    await client.hset(key, "1", "1");
    expect(await client.object("ENCODING", key)).toBe("hashtable");
  });

  it("with nothing left to evict, refuses writes with OOM (and keeps what it holds)", async () => {
    await client.flushall();
    const value = "y".repeat(64 * 1024);
    let refused: unknown;
    for (let i = 0; i < (2 * MAXMEMORY_BYTES) / value.length && refused === undefined; i++) {
      // keys without a lifetime, as the pending overlay and outboxes are
      await client.set(`rs:rel:pending-like:{${i}}`, value).catch((err: unknown) => (refused = err));
    }
    expect(String(refused)).toMatch(/OOM command not allowed/);
    expect(await client.get("rs:rel:pending-like:{0}")).toBe(value);
  });
});
