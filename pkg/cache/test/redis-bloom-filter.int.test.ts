/**
 * The Bloom filter on the real Redis: no false negatives, a measured
 * false-positive rate close to the configured one (one shard and eight), one
 * round trip per batch, and a layout guard.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { infra } from "../../../test/infra.js";
import { redisFromUrl, type RedisClient } from "../../redis/src/index.js";
import { BloomLayoutMismatchError, RedisBloomFilter } from "../src/index.js";

const N = 100_000;
const P = 0.01;
const run = randomBytes(6).toString("hex");
const filters: RedisBloomFilter[] = [];
let redis: RedisClient;

beforeAll(() => {
  redis = redisFromUrl(infra().redisUrl, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  for (const f of filters) await redis.del(...f.redisKeys);
  await redis.quit();
});

function filter(suffix: string, over: Partial<{ expectedItems: number; falsePositiveRate: number; maxBitsPerShard: number }> = {}) {
  const f = new RedisBloomFilter(redis, { name: `test:bloom:${run}:${suffix}`, expectedItems: N, falsePositiveRate: P, ...over });
  filters.push(f);
  return f;
}

const members = Array.from({ length: N }, (_, i) => String(1_000_000_000 + i * 7));
const strangers = Array.from({ length: N }, (_, i) => String(5_000_000_000 + i * 13));

async function inBatches<T>(xs: string[], size: number, fn: (batch: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < xs.length; i += size) out.push(...(await fn(xs.slice(i, i + size))));
  return out;
}

describe("RedisBloomFilter (real Redis)", () => {
  it.each([
    ["one bitmap", undefined, 1],
    ["eight shard bitmaps", 2 ** 17, 8],
  ] as const)("%s: 100k items, no false negatives, false-positive rate within [0.5p, 1.5p]", async (label, maxBitsPerShard, shards) => {
    const f = filter(label.replace(/ /g, "-"), maxBitsPerShard ? { maxBitsPerShard } : {});
    expect(f.layout.shards).toBe(shards);
    await f.init();
    await inBatches(members, 10_000, async (b) => (await f.addMany(b), []));

    const present = await inBatches(members, 10_000, (b) => f.mightContainMany(b));
    expect(present.filter((x) => !x)).toHaveLength(0);

    const fp = (await inBatches(strangers, 10_000, (b) => f.mightContainMany(b))).filter(Boolean).length / N;
    console.log(`bloom ${label}: layout ${JSON.stringify(f.layout)}, measured false-positive rate ${(fp * 100).toFixed(3)}%`);
    expect(fp).toBeGreaterThan(P * 0.5);
    expect(fp).toBeLessThan(P * 1.5);

    // Bits are where the layout says: the bitmaps are no bigger than planned.
    for (const key of f.redisKeys.slice(0, -1)) expect(await redis.strlen(key)).toBeLessThanOrEqual(Math.ceil(f.layout.bitsPerShard / 8));
  });

  it("single-item calls agree with the batch calls, and add tells a new item from a known one", async () => {
    const f = filter("single", { expectedItems: 1_000 });
    expect(await f.mightContain("u1")).toBe(false);
    expect(await f.add("u1")).toBe(true);
    expect(await f.add("u1")).toBe(false);
    expect(await f.mightContain("u1")).toBe(true);
    expect(await f.mightContainMany(["u1", "u2", "u1"])).toEqual([true, false, true]);
    expect(await f.mightContainMany([])).toEqual([]);
  });

  it("a batch over several shards is one pipeline: one round trip", async () => {
    const f = filter("round-trip", { expectedItems: 10_000, maxBitsPerShard: 2 ** 12 });
    expect(f.layout.shards).toBeGreaterThan(10);
    const counting = redis as Redis & { pipeline: Redis["pipeline"] };
    const original = counting.pipeline.bind(redis);
    let pipelines = 0;
    let execs = 0;
    counting.pipeline = ((...args: Parameters<Redis["pipeline"]>) => {
      pipelines++;
      const p = original(...args);
      const exec = p.exec.bind(p);
      p.exec = ((...a: Parameters<typeof exec>) => (execs++, exec(...a))) as typeof p.exec;
      return p;
    }) as Redis["pipeline"];
    try {
      await f.addMany(members.slice(0, 5_000));
      expect(await f.mightContainMany(members.slice(0, 5_000))).toEqual(Array(5_000).fill(true));
    } finally {
      counting.pipeline = original;
    }
    expect([pipelines, execs]).toEqual([2, 2]);
  });

  it("refuses bits written with another layout under the same name", async () => {
    const a = filter("layout", { expectedItems: 1_000 });
    await a.init();
    await a.init();
    const b = filter("layout", { expectedItems: 2_000 });
    await expect(b.init()).rejects.toBeInstanceOf(BloomLayoutMismatchError);
  });
});
