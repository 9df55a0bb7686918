/**
 * The count service over gRPC against the real MariaDB and Redis: relation
 * counts and generic counters from the count store, order kept, limits and
 * bad input refused; the cache is hash buckets that stay listpack-encoded
 * (checked with OBJECT ENCODING) even when more counters land in one bucket
 * than it may hold; concurrent misses of one counter read MySQL once.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CountServiceInternals } from "../src/count.process.js";
import { counterKeyString, type CounterKey } from "../src/domain/counter-key.js";
import { createCountWorld, randomId, seedCounters, type CountClient, type CountWorld } from "./count-fixture.js";

let w: CountWorld;
let client: CountClient;
let internals: CountServiceInternals;

beforeAll(async () => {
  w = await createCountWorld("service");
  const s = await w.service();
  client = s.client;
  internals = s.running.internals;
});

afterAll(async () => {
  await w?.cleanup();
});

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => status.OK,
    (err: { code?: number }) => err.code,
  );

describe("count service", () => {
  it("serves a user's counts from the count store, 0 for counts nobody has yet", async () => {
    const [a, b] = [randomId(), randomId()];
    await seedCounters(w.sharded, [
      { type: "user", id: a, name: "following", value: 12 },
      { type: "user", id: a, name: "follower", value: 3_400 },
    ]);
    expect((await client.getCounts({ userId: a })).counts).toEqual({ userId: a, followingCount: 12, followerCount: 3_400 });
    expect((await client.getCounts({ userId: b })).counts).toEqual({ userId: b, followingCount: 0, followerCount: 0 });
    // the second read is served by the cache: the same answer
    expect((await client.getCounts({ userId: a })).counts?.followerCount).toBe(3_400);
  });

  it("BatchGetCounts keeps the request's order (duplicates included) and takes at most 100 users", async () => {
    const ids = Array.from({ length: 5 }, randomId);
    await seedCounters(
      w.sharded,
      ids.map((id, i) => ({ type: "user", id, name: "follower", value: i + 1 })),
    );
    const asked = [ids[3]!, ids[0]!, ids[3]!, ids[4]!];
    const r = await client.batchGetCounts({ userIds: asked });
    expect(r.counts.map((c) => [c.userId, c.followerCount])).toEqual([
      [ids[3], 4],
      [ids[0], 1],
      [ids[3], 4],
      [ids[4], 5],
    ]);
    expect(await codeOf(client.batchGetCounts({ userIds: Array.from({ length: 101 }, randomId) }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(client.batchGetCounts({ userIds: [] }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(client.batchGetCounts({ userIds: [ids[0]!, 0] }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(client.getCounts({ userId: -5 }))).toBe(status.INVALID_ARGUMENT);
  });

  it("serves generic counters of any entity type, and the user counts are the same counters", async () => {
    const post = randomId();
    const user = randomId();
    await seedCounters(w.sharded, [
      { type: "post", id: post, name: "likes", value: 77 },
      { type: "user", id: user, name: "following", value: 9 },
    ]);
    expect((await client.getCounter({ key: { entityType: "post", entityId: post, name: "likes" } })).value).toBe(77);
    const r = await client.batchGetCounters({
      keys: [
        { entityType: "user", entityId: user, name: "following" },
        { entityType: "post", entityId: post, name: "comments" },
        { entityType: "post", entityId: post, name: "likes" },
      ],
    });
    expect(r.values).toEqual([9, 0, 77]);
    for (const bad of [
      { entityType: "Post", entityId: post, name: "likes" },
      { entityType: "post", entityId: 0, name: "likes" },
      { entityType: "post", entityId: post, name: "x".repeat(40) },
      { entityType: "post", entityId: post, name: "likes:all" },
    ]) {
      expect(await codeOf(client.getCounter({ key: bad }))).toBe(status.INVALID_ARGUMENT);
    }
    expect(await codeOf(client.getCounter({ key: undefined }))).toBe(status.INVALID_ARGUMENT);
  });

  it("caches counters in hash buckets that stay listpack-encoded", async () => {
    const id = randomId();
    await seedCounters(w.sharded, [{ type: "user", id, name: "following", value: 5 }]);
    await client.getCounts({ userId: id });
    const { key, field } = internals.cache.locate({ entityType: "user", entityId: id, name: "following" });
    expect(await w.redis.hget(key, field)).toBe("5");
    expect(await w.redis.object("ENCODING", key)).toBe("listpack");
    expect(await w.redis.pttl(key)).toBeGreaterThan(0);
  });

  it("keeps a full bucket at its field limit and listpack-encoded, and measures bytes per counter", async () => {
    // One bucket for everything, so 700 counters compete for 512 fields.
    const s = await w.service({ COUNT_CACHE_BUCKETS: "1", COUNT_KEY_PREFIX: `${w.prefix}one:` });
    const ids = Array.from({ length: 700 }, randomId);
    for (let i = 0; i < ids.length; i += 100) await s.client.batchGetCounts({ userIds: ids.slice(i, i + 100) });
    const { key } = s.running.internals.cache.locate({ entityType: "user", entityId: ids[0]!, name: "following" });
    expect(await w.redis.hlen(key)).toBe(512);
    expect(await w.redis.object("ENCODING", key)).toBe("listpack");
    const bytes = Number(await w.redis.memory("USAGE", key));
    if (process.env.PRINT_BYTES) process.stdout.write(`bucket ${bytes} B / 512 = ${bytes / 512} B per counter\n`);
    // A 512-counter bucket with one bucket per (type, name): the field carries the whole id (7 bytes),
    // ~11 bytes per counter including its share of the key (the default 65 536 buckets: ~10, docs/benchmarks.md).
    expect(bytes / 512).toBeLessThan(13);
    // Every counter still reads right (dropped ones come back from MySQL).
    const all = await s.client.batchGetCounts({ userIds: ids.slice(0, 100) });
    expect(all.counts.every((c) => c.followingCount === 0 && c.followerCount === 0)).toBe(true);
  });

  it("collapses concurrent misses of one counter into one MySQL read (singleflight)", async () => {
    const id = randomId();
    await seedCounters(w.sharded, [{ type: "post", id, name: "views", value: 1_234 }]);
    const store = internals.store;
    const reads: CounterKey[][] = [];
    const original = store.read.bind(store);
    store.read = async (keys) => {
      reads.push([...keys]);
      return original(keys);
    };
    try {
      const key = { entityType: "post", entityId: id, name: "views" };
      const answers = await Promise.all(Array.from({ length: 20 }, () => client.getCounter({ key })));
      expect(answers.every((a) => a.value === 1_234)).toBe(true);
      const ofKey = reads.filter((r) => r.some((k) => counterKeyString(k) === counterKeyString(key)));
      expect(ofKey).toHaveLength(1);
    } finally {
      store.read = original;
    }
  });
});
