/**
 * Redis memory per cached relation edge and per cached counter, through the
 * services' own cache code, on a private redis-server started with the local
 * stack's memory settings (deploy/stack/redis-memory.ts):
 *
 * - following:{A} loaded with 20, 100, FOLLOWING_INDEX_MIN + 1 (the smallest
 *   list with an index) and 5 000 (the following cap) follows: `MEMORY USAGE`
 *   of the list's keys (following:{A} and, for a list past FOLLOWING_INDEX_MIN
 *   (128) follows, its index following-ix:{A}) divided by the edges;
 * - a counter bucket of the count cache at its default layout (65 536 buckets),
 *   filled to 256 (typical) and 512 (full) counters: bytes per counter.
 *
 *   node --import tsx bench/redis-memory.ts
 *
 * - Redis CPU per is-following call (1 and 100 targets) on those lists, from
 *   INFO commandstats (usec_per_call of the command the service sends: EVALSHA of
 *   the is-following script), against the ZMSCORE the service sent before on the
 *   same lists as a skiplist (Redis's default encoding limits) and as a listpack
 *   without index.
 *
 * Needs only redis-server. Prints tables and writes bench/results/redis-memory.json.
 */
import { createLogger } from "@rs/logger";
import { closeRedis, createRedis, waitForRedisReady } from "@rs/redis";
import { REDIS_MAXMEMORY_DEFAULT, redisMemoryArgs } from "../deploy/stack/redis-memory.js";
import { COUNT_CACHE_DEFAULTS, CounterCache } from "../services/count/src/index.js";
import { RelationCache } from "../services/relation/src/adapters/redis/relation-cache.js";
import { FOLLOWING_INDEX_MIN } from "../services/relation/src/adapters/redis/relation-keys.js";
import { privateRedis } from "../test/support/private-redis.js";
import { writeResult } from "./lib/results.js";

const FIRST_ID = 1_900_000_000_000 * 4096;
const logger = createLogger("redis-memory-bench", "warn");

interface BenchList {
  readonly user: number;
  readonly follows: number;
  readonly edges: { to: number; timeMs: number; version: number }[];
}
const CPU_CALLS = 20_000;

/** usec_per_call of `command` over `calls` runs of `run` (100 in flight), from a reset commandstats. */
async function usPerCall(redis: ReturnType<typeof createRedis>, command: string, run: () => Promise<unknown>): Promise<number> {
  await redis.config("RESETSTAT");
  for (let i = 0; i < CPU_CALLS; i += 100) await Promise.all(Array.from({ length: 100 }, run));
  const stats = await redis.info("commandstats");
  return Number(new RegExp(`^cmdstat_${command}:calls=\\d+,usec=\\d+,usec_per_call=([\\d.]+)`, "m").exec(stats)?.[1]);
}

/**
 * Redis CPU of is-following on each list: the service's script (from the list as
 * loaded), then the plain ZMSCORE of before on a copy as a skiplist and as a
 * listpack without index (ZRANGESTORE with the encoding limit set for it).
 */
async function isFollowingCpu(redis: ReturnType<typeof createRedis>, cache: RelationCache, lists: readonly BenchList[]) {
  const out: { list: string; command: string; targets: number; usPerCall: number }[] = [];
  const [, zsetLimit] = (await redis.config("GET", "zset-max-listpack-entries")) as string[];
  for (const l of lists) {
    // half members, half not
    const targets = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? l.edges[(i * 37) % l.follows]!.to : FIRST_ID + i * 4096 + 2));
    for (const n of [1, 100]) {
      const t = targets(n);
      out.push({
        list: `${l.follows} follows, as loaded`,
        command: "evalsha",
        targets: n,
        usPerCall: await usPerCall(redis, "evalsha", () => cache.batchIsFollowing(l.user, t)),
      });
    }
    for (const [layout, limit] of [
      ["skiplist", "128"],
      ["listpack, no index", "8192"],
    ] as const) {
      const copy = `bench:copy:{${l.user}}`;
      await redis.config("SET", "zset-max-listpack-entries", limit);
      await redis.del(copy);
      await redis.zrangestore(copy, cache.keys.following(l.user), 0, -1);
      await redis.config("SET", "zset-max-listpack-entries", zsetLimit!);
      const encoding = String(await redis.object("ENCODING", copy));
      if (l.follows > 128 && !encoding.startsWith(layout.split(",")[0]!)) throw new Error(`copy of ${l.follows}: ${encoding}, wanted ${layout}`);
      for (const n of [1, 100]) {
        const t = targets(n).map(String);
        out.push({
          list: `${l.follows} follows, ${encoding} (before: ZMSCORE)`,
          command: "zmscore",
          targets: n,
          usPerCall: await usPerCall(redis, "zmscore", () => redis.zmscore(copy, "#", ...t)),
        });
      }
      await redis.del(copy);
      if (l.follows <= 128) break;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const server = await privateRedis(redisMemoryArgs(REDIS_MAXMEMORY_DEFAULT));
  const redis = createRedis(server.url, { name: "redis-memory-bench", logger });
  try {
    await waitForRedisReady(redis);
    const rows: { what: string; entries: number; bytes: number; perEntry: number; encoding: string }[] = [];

    const cache = new RelationCache(redis, { keyPrefix: "bench:rel:" });
    const lists: BenchList[] = [];
    for (const [user, follows] of [
      [3, 20],
      [1, 100],
      [4, FOLLOWING_INDEX_MIN + 1],
      [2, 5_000],
    ] as const) {
      const now = Date.now();
      const edges = Array.from({ length: follows }, (_, i) => ({ to: FIRST_ID + i * 4096 + 1, timeMs: now - i * 1000, version: i + 1 }));
      const state = await cache.readState(user);
      const r = await cache.load(user, edges, follows, state.epoch);
      if (r.status !== "loaded") throw new Error(`load of user ${user}: ${r.status}`);
      const keys = [cache.keys.following(user), cache.keys.followingIndex(user)];
      let bytes = 0;
      const encodings: string[] = [];
      for (const key of keys) {
        const usage = await redis.memory("USAGE", key, "SAMPLES", "0");
        if (usage === null) continue;
        bytes += Number(usage);
        encodings.push(String(await redis.object("ENCODING", key)));
      }
      rows.push({
        what: `following:{A}${encodings.length > 1 ? " + index" : ""}, ${follows} follows`,
        entries: follows,
        bytes,
        perEntry: bytes / follows,
        encoding: encodings.join(" + "),
      });
      lists.push({ user, follows, edges });
    }
    const cpu = await isFollowingCpu(redis, cache, lists);

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
    process.stdout.write(`\nRedis CPU per is-following call (INFO commandstats, ${CPU_CALLS} calls each)\n`);
    process.stdout.write(`${"list".padEnd(44)}${"command".padEnd(10)}${"targets".padStart(8)}${"µs/call".padStart(9)}\n`);
    for (const c of cpu) {
      process.stdout.write(`${c.list.padEnd(44)}${c.command.padEnd(10)}${String(c.targets).padStart(8)}${c.usPerCall.toFixed(2).padStart(9)}\n`);
    }
    writeResult({ rows, cpu });
  } finally {
    await closeRedis(redis);
    await server.destroy();
  }
}

await main();
