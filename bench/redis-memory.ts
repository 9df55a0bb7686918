/**
 * Redis memory per cached relation edge and per cached counter, through the
 * services' own cache code, on a private redis-server started with the local
 * stack's memory settings (deploy/stack/redis-memory.ts):
 *
 * - following:{A} loaded with 100 and with 5 000 (the following cap) follows:
 *   `MEMORY USAGE` of the key divided by the edges;
 * - a counter bucket of the count cache at its default layout (65 536 buckets),
 *   filled to 256 (typical) and 512 (full) counters: bytes per counter.
 *
 *   node --import tsx bench/redis-memory.ts
 *
 * Needs only redis-server. Prints a table and writes bench/results/redis-memory.json.
 */
import { createLogger } from "@rs/logger";
import { closeRedis, createRedis, waitForRedisReady } from "@rs/redis";
import { REDIS_MAXMEMORY_DEFAULT, redisMemoryArgs } from "../deploy/stack/redis-memory.js";
import { COUNT_CACHE_DEFAULTS, CounterCache } from "../services/count/src/index.js";
import { RelationCache } from "../services/relation/src/adapters/redis/relation-cache.js";
import { privateRedis } from "../test/support/private-redis.js";
import { writeResult } from "./lib/results.js";

const FIRST_ID = 1_900_000_000_000 * 4096;
const logger = createLogger("redis-memory-bench", "warn");

async function main(): Promise<void> {
  const server = await privateRedis(redisMemoryArgs(REDIS_MAXMEMORY_DEFAULT));
  const redis = createRedis(server.url, { name: "redis-memory-bench", logger });
  try {
    await waitForRedisReady(redis);
    const rows: { what: string; entries: number; bytes: number; perEntry: number; encoding: string }[] = [];

    const cache = new RelationCache(redis, { keyPrefix: "bench:rel:" });
    for (const [user, follows] of [
      [1, 100],
      [2, 5_000],
    ] as const) {
      const now = Date.now();
      const edges = Array.from({ length: follows }, (_, i) => ({ to: FIRST_ID + i * 4096 + 1, timeMs: now - i * 1000, version: i + 1 }));
      const state = await cache.readState(user);
      const r = await cache.load(user, edges, follows, state.epoch);
      if (r.status !== "loaded") throw new Error(`load of user ${user}: ${r.status}`);
      const key = cache.keys.following(user);
      const bytes = Number(await redis.memory("USAGE", key, "SAMPLES", "0"));
      rows.push({
        what: `following:{A}, ${follows} follows`,
        entries: follows,
        bytes,
        perEntry: bytes / follows,
        encoding: String(await redis.object("ENCODING", key)),
      });
    }

    const counters = new CounterCache(redis, { ...COUNT_CACHE_DEFAULTS, keyPrefix: "bench:cnt:" });
    // ids that land in one bucket of the default layout: snowflake-like ids, kept when their bucket is the first one's
    const target = counters.locate({ entityType: "user", entityId: FIRST_ID, name: "follower" }).key;
    const ids: number[] = [];
    for (let i = 0; ids.length < COUNT_CACHE_DEFAULTS.bucketFields; i++) {
      const id = FIRST_ID + i;
      if (counters.locate({ entityType: "user", entityId: id, name: "follower" }).key === target) ids.push(id);
    }
    for (const fill of [256, COUNT_CACHE_DEFAULTS.bucketFields]) {
      await redis.del(target);
      // counts as a user's follower counts spread: mostly small, some large
      await counters.set(
        ids.slice(0, fill).map((id, i) => ({ key: { entityType: "user", entityId: id, name: "follower" }, value: i % 10 === 0 ? 10_000 + i : i % 100 })),
      );
      const bytes = Number(await redis.memory("USAGE", target, "SAMPLES", "0"));
      rows.push({
        what: `counter bucket, ${fill} counters`,
        entries: fill,
        bytes,
        perEntry: bytes / fill,
        encoding: String(await redis.object("ENCODING", target)),
      });
    }

    process.stdout.write(`\nredis-memory: redis-server with ${redisMemoryArgs(REDIS_MAXMEMORY_DEFAULT).join(" ")}\n`);
    process.stdout.write(`${"structure".padEnd(36)}${"entries".padStart(8)}${"bytes".padStart(10)}${"B/entry".padStart(9)}  encoding\n`);
    for (const r of rows) {
      process.stdout.write(
        `${r.what.padEnd(36)}${String(r.entries).padStart(8)}${String(r.bytes).padStart(10)}${r.perEntry.toFixed(1).padStart(9)}  ${r.encoding}\n`,
      );
    }
    writeResult({ rows });
  } finally {
    await closeRedis(redis);
    await server.destroy();
  }
}

await main();
