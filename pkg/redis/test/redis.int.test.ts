import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { infra } from "../../../test/infra.js";
import { ANY_KEY_COUNT, closeRedis, createRedis, defineScript, redisReadiness, waitForRedisReady, type RedisClient } from "../src/index.js";
import { freePort } from "../../../test/support/free-port.js";
import { privateRedis, type PrivateRedis } from "../../../test/support/private-redis.js";
import { CLUSTER_FIXTURES, startRedisCluster, type RedisClusterFixture } from "../../../test/support/redis-cluster.js";

const logger = createLogger("redis-test", "silent");
/** "Fails fast" means this, far below the one second the contract allows. */
const FAST_MS = 250;
/** Small reconnect delay so the restart test recovers quickly. */
const TEST_MAX_RECONNECT_DELAY_MS = 100;

/** INCRBY on KEYS[1] by ARGV[1], returning the new value and the key count seen. */
const INCR_LUA = "local v = redis.call('INCRBY', KEYS[1], ARGV[1]) return {v, #KEYS}";

async function elapsed<T>(p: Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const t0 = performance.now();
  const [result] = await Promise.allSettled([p]);
  return { ms: performance.now() - t0, result: result! };
}

describe("@rs/redis against the shared Redis", () => {
  let redis: RedisClient;
  const prefix = `test:redis:${randomUUID()}:`;

  beforeAll(async () => {
    redis = createRedis(infra().redisUrl, { logger, name: "redis-int-shared" });
    await waitForRedisReady(redis);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await closeRedis(redis);
  });

  it("passes the readiness check and runs a defined script", async () => {
    await expect(redisReadiness(redis).check()).resolves.toBeUndefined();
    const incr = defineScript<[number, number]>(redis, "rsTestIncr", INCR_LUA, 1);
    expect(await incr([`${prefix}n`], [5])).toEqual([5, 1]);
    expect(await incr([`${prefix}n`], [2])).toEqual([7, 1]);
  });

  it("refuses a wrong key count and a name that would shadow a command", async () => {
    const incr = defineScript<[number, number]>(redis, "rsTestIncr", INCR_LUA, 1);
    await expect(incr([`${prefix}a`, `${prefix}b`], [1])).rejects.toThrow(/takes 1 keys/);
    expect(() => defineScript(redis, "rsTestIncr", "return 1", 0)).toThrow(/different body/);
    expect(() => defineScript(redis, "get", "return 1", 0)).toThrow(/collides/);
  });

  it("passes each call's keys to a script of any key count", async () => {
    const incr = defineScript<[number, number]>(redis, "rsTestIncrAny", INCR_LUA, ANY_KEY_COUNT);
    expect(await incr([`${prefix}any`], [3])).toEqual([3, 1]);
    expect(await incr([`${prefix}any`, `${prefix}other`, `${prefix}third`], [4])).toEqual([7, 3]);
  });
});

describe("@rs/redis against a private redis-server", () => {
  let server: PrivateRedis;
  let redis: RedisClient;

  beforeAll(async () => {
    server = await privateRedis();
    redis = createRedis(server.url, { logger, name: "redis-int-private", maxReconnectDelayMs: TEST_MAX_RECONNECT_DELAY_MS });
    await waitForRedisReady(redis);
  });
  afterAll(async () => {
    await closeRedis(redis);
    await server.destroy();
  });

  it("defineScript keeps working after SCRIPT FLUSH (EVALSHA → NOSCRIPT → EVAL)", async () => {
    const incr = defineScript<[number, number]>(redis, "rsFlushIncr", INCR_LUA, 1);
    expect(await incr(["flush:n"], [1])).toEqual([1, 1]);
    expect(await redis.script("EXISTS", incr.sha)).toEqual([1]);

    await redis.script("FLUSH");
    expect(await redis.script("EXISTS", incr.sha)).toEqual([0]);

    expect(await incr(["flush:n"], [1])).toEqual([2, 1]);
    // The fallback loaded it again, so the next calls are plain EVALSHA.
    expect(await redis.script("EXISTS", incr.sha)).toEqual([1]);
    expect(await incr(["flush:n"], [1])).toEqual([3, 1]);

    const any = defineScript<[number, number]>(redis, "rsFlushIncrAny", INCR_LUA, ANY_KEY_COUNT);
    await redis.script("FLUSH");
    expect(await any(["flush:m", "flush:o"], [1])).toEqual([1, 2]);
    expect(await redis.script("EXISTS", any.sha)).toEqual([1]);
    expect(await any(["flush:m"], [1])).toEqual([2, 1]);
  });

  it("rejects in-flight and new commands fast while Redis is down, then recovers by itself", async () => {
    const incr = defineScript<[number, number]>(redis, "rsRestartIncr", INCR_LUA, 1);
    expect(await incr(["restart:n"], [1])).toEqual([1, 1]);

    // A command in flight when the server dies is rejected, not parked for a resend.
    const inFlight = elapsed(redis.call("DEBUG", "SLEEP", "0.5"));
    await new Promise((r) => setTimeout(r, 50));
    await server.kill();
    const flight = await inFlight;
    expect(flight.result.status).toBe("rejected");
    expect(flight.ms).toBeLessThan(FAST_MS + 50);

    const down = await elapsed(redis.get("restart:n"));
    expect(down.result.status).toBe("rejected");
    expect(down.ms).toBeLessThan(FAST_MS);
    const ready = await elapsed(redisReadiness(redis).check());
    expect(ready.result.status).toBe("rejected");
    expect(ready.ms).toBeLessThan(FAST_MS);

    // A restarted server has an empty script cache and no data (no persistence).
    await server.start();
    await waitForRedisReady(redis, 5_000);
    expect(await incr(["restart:n"], [4])).toEqual([4, 1]);
  });
});

describe("@rs/redis against an unreachable Redis", () => {
  it("fails commands and the readiness check well under a second instead of hanging", async () => {
    const port = await freePort(); // bound and released: nothing listens there
    // A short reconnect delay makes the client retry constantly, which the
    // close check below relies on to prove that closing stops the retries.
    const redis = createRedis(`redis://127.0.0.1:${port}`, { logger, name: "redis-int-unreachable", maxReconnectDelayMs: 20 });
    try {
      // Right after creation (still connecting) ...
      const first = await elapsed(redis.set("k", "v"));
      expect(first.result.status).toBe("rejected");
      expect(first.ms).toBeLessThan(FAST_MS);
      // ... and after a few failed connection attempts.
      await new Promise((r) => setTimeout(r, 300));
      const later = await elapsed(redis.get("k"));
      expect(later.result.status).toBe("rejected");
      expect(later.ms).toBeLessThan(FAST_MS);
      const check = await elapsed(redisReadiness(redis).check());
      expect(check.result.status).toBe("rejected");
      expect(check.ms).toBeLessThan(FAST_MS);
      await expect(waitForRedisReady(redis, 200)).rejects.toThrow(/not ready after 200ms/);
    } finally {
      const closed = await elapsed(closeRedis(redis));
      expect(closed.ms).toBeLessThan(FAST_MS);
      let attemptsAfterClose = 0;
      redis.on("error", () => attemptsAfterClose++);
      await new Promise((r) => setTimeout(r, 200));
      expect(attemptsAfterClose).toBe(0);
    }
  });
});

describe("@rs/redis against a three-master Redis Cluster", () => {
  let cluster: RedisClusterFixture;
  let redis: RedisClient;

  beforeAll(async () => {
    cluster = await startRedisCluster(CLUSTER_FIXTURES.redisPackage);
    redis = createRedis(cluster.url, { logger, name: "redis-int-cluster" });
    await waitForRedisReady(redis, 10_000);
  });
  afterAll(async () => {
    await closeRedis(redis);
    await cluster.destroy();
  });

  it("connects as a Cluster client, is ready on every master and routes keys by slot", async () => {
    expect(redis.isCluster).toBe(true);
    await expect(redisReadiness(redis).check()).resolves.toBeUndefined();
    // keys spread over the masters: each write lands on its slot's node
    await Promise.all(Array.from({ length: 30 }, (_, i) => redis.set(`k:${i}`, String(i))));
    expect(await Promise.all(Array.from({ length: 30 }, (_, i) => redis.get(`k:${i}`)))).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
  });

  it("runs a script on one hash-tagged slot and refuses keys of several slots", async () => {
    const two = defineScript<number>(redis, "rsClusterTwo", "redis.call('SET', KEYS[1], ARGV[1]) redis.call('SET', KEYS[2], ARGV[1]) return 2", 2);
    expect(await two(["a:{7}", "b:{7}"], ["x"])).toBe(2);
    await expect(two(["a:{7}", "b:{8}"], ["x"])).rejects.toThrow(/CROSSSLOT|same slot/i);
    const any = defineScript<[number, number]>(redis, "rsClusterAny", INCR_LUA, ANY_KEY_COUNT);
    expect(await any(["n:{7}", "m:{7}", "o:{7}"], [2])).toEqual([2, 3]);
    await expect(any(["n:{7}", "n:{8}"], [1])).rejects.toThrow(/CROSSSLOT|same slot/i);
  });

  it("fails readiness when a master is down", async () => {
    const closed = createRedis(`redis-cluster://127.0.0.1:${await freePort()}`, { logger, name: "redis-int-cluster-down", maxReconnectAttempts: 0 });
    await expect(redisReadiness(closed).check()).rejects.toThrow();
    await closeRedis(closed);
  });
});
