/**
 * The existence bloom filter is seeded from every shard when it is missing,
 * is never believed while it is incomplete, and rebuilds itself when Redis
 * loses it.
 */
import { ShardedMysql } from "@rs/mysql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCAN_PAGE_SIZE } from "../src/adapters/mysql/users.repository.js";
import { RedisUserExistenceFilter } from "../src/adapters/redis/user-existence-filter.js";
import type { RunningUserService } from "../src/user.process.js";
import { counterValue, logger, shardQueryCount, userFixture, waitFor, type UserFixture } from "./user-fixture.js";

/** More than one scan page per shard, so seeding pages through each shard. */
const EXISTING_USERS = SCAN_PAGE_SIZE * 2 + 5_000;
const FIRST_ID = 10_000_000_000;
const INSERT_CHUNK = 5_000;

let fx: UserFixture;
let svc: RunningUserService;
const existing: number[] = [];

beforeAll(async () => {
  fx = await userFixture({ USER_BLOOM_EXPECTED_USERS: "100000" });
  // Users written before the service ever ran (e.g. restored from a backup): the filter does not know them.
  const sharded = ShardedMysql.create({ dsns: fx.dbs.dsns, virtualShards: 64, poolSize: 2, logger });
  try {
    for (let i = 0; i < EXISTING_USERS; i++) existing.push(FIRST_ID + i * 3);
    for (const [physical, ids] of sharded.groupByShard(existing, (id) => id)) {
      for (let from = 0; from < ids.length; from += INSERT_CHUNK) {
        const rows = ids.slice(from, from + INSERT_CHUNK).map((id) => [id, `seed${id}`, "x", 1, 1]);
        await sharded.pool(physical).query("INSERT INTO users (id, username, password_hash, created_at, updated_at) VALUES ?", [rows]);
      }
    }
  } finally {
    await sharded.close();
  }
  svc = await fx.start();
}, 120_000);

afterAll(async () => {
  await fx?.cleanup();
});

describe("user existence filter", () => {
  it("is seeded from every shard at start, page by page", async () => {
    const bits = await svc.internals.existence.bloom.mightContainMany(existing.map(String));
    expect(bits.every(Boolean)).toBe(true);
    const client = fx.client();
    expect((await client.userExists({ userId: existing.at(-1)! })).exists).toBe(true);
    expect((await client.userExists({ userId: existing[0]! })).exists).toBe(true);
    // Unknown ids are refused by the filter, without the shards.
    const before = await shardQueryCount();
    for (let i = 1; i <= 10; i++) {
      const unknown = FIRST_ID + i * 3 + 1;
      const maybe = await svc.internals.existence.bloom.mightContain(String(unknown));
      if (!maybe) expect((await client.userExists({ userId: unknown })).exists).toBe(false);
    }
    expect(await shardQueryCount()).toBe(before);
  });

  it("is not believed once Redis lost it, and rebuilds itself", async () => {
    const client = fx.client();
    await fx.redis.del(...svc.internals.existence.redisKeys);
    const untrusted = await counterValue("user_bloom_answers_total", { answer: "untrusted" });
    // An empty filter would say "no": the service asks the store instead.
    expect((await client.userExists({ userId: existing[17]! })).exists).toBe(true);
    expect(await counterValue("user_bloom_answers_total", { answer: "untrusted" })).toBeGreaterThan(untrusted);
    const seededKey = svc.internals.existence.redisKeys.find((k) => k.endsWith(":seeded"))!;
    await waitFor("the filter to be rebuilt", async () => (await fx.redis.exists(seededKey)) === 1, 30_000);
    const bits = await svc.internals.existence.bloom.mightContainMany(existing.map(String));
    expect(bits.every(Boolean)).toBe(true);
  });

  it("is not marked seeded when Redis loses the bits while it is being seeded", async () => {
    const redis = fx.redis;
    const filter: RedisUserExistenceFilter = new RedisUserExistenceFilter(redis, {
      keyPrefix: `rs:test:user:${fx.tag}:lossy:`,
      expectedUsers: 1_000,
      falsePositiveRate: 0.01,
      logger,
      store: {
        // Redis restarts without its data between two pages.
        scanUserIds: async (onPage) => {
          await onPage([1, 2, 3]);
          await redis.del(...filter.redisKeys);
          await onPage([4, 5, 6]);
        },
      },
    });
    await expect(filter.ensureSeeded()).rejects.toThrow(/lost the seeding lock/);
    expect(await redis.exists(...filter.redisKeys)).toBe(1); // the bits of the last page, no mark
    expect(await filter.mightExist([1])).toBeUndefined(); // ids 1-3 are gone: the filter is not trusted
    await filter.ensureSeeded().catch(() => undefined); // the rebuild that answer started, failing the same way
    await redis.del(...filter.redisKeys);
  });
});
