/**
 * Redis restarted after a crash, from an append-only file that missed its last
 * second: following:{A} comes back without a follow that was acknowledged,
 * published and persisted. Without a repair, is-following stays wrong for the
 * key's TTL (a day) and an unfollow answers "not following" while MySQL keeps
 * the edge. The persister notices the restart (run_id against the keyspace's
 * marker), waits until it has persisted what was published, and drops the
 * cached lists that differ from the shards; the next read reloads them.
 *
 * The loss is made exact on a private redis-server: the user's keys are
 * dumped before the last follow, the server is killed and started empty, and
 * the dump is restored, which is the state an AOF missing its last second holds.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { privateRedis, type PrivateRedis } from "../../../test/support/private-redis.js";
import type { RelationInstance, World } from "./relation-harness.js";
import { redisLossWorld, type RedisLossWorld } from "./redis-loss-fixture.js";

const CONVERGE_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

let w: World;
let pr: PrivateRedis;
let relation: RelationInstance;
let admin: Redis;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(POLL_MS);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
}

let world: RedisLossWorld;

beforeAll(async () => {
  pr = await privateRedis();
  world = await redisLossWorld("redisloss", pr.url);
  ({ w, relation } = world);
  admin = new Redis(pr.url, { maxRetriesPerRequest: 1 });
}, 120_000);

afterAll(async () => {
  admin?.disconnect();
  await world?.cleanup();
  await pr?.destroy();
});

const persisted = async (from: number, to: number) => ((await world.persisted(from, to)) ? true : undefined);

describe("after Redis lost its last second", () => {
  it("the cached lists converge to the shards by themselves", async () => {
    const [a, b, c] = await w.registerUsers(3);
    const k = { following: `${w.redis.prefix}following:{${a}}`, meta: `${w.redis.prefix}meta:{${a}}`, run: `${w.redis.prefix}redis-run` };
    expect(await relation.client.follow({ fromUserId: a!, toUserId: b!, source: 0 })).toMatchObject({ changed: true });
    await until("a→b persisted", () => persisted(a!, b!));
    await until("the keyspace marker", async () => (await admin.get(k.run)) ?? undefined);

    // the keyspace as the AOF holds it one second before the crash
    const dump = new Map<string, Buffer>();
    for (const key of Object.values(k)) {
      const d = await admin.dumpBuffer(key);
      if (d) dump.set(key, d);
    }
    expect(await relation.client.follow({ fromUserId: a!, toUserId: c!, source: 0 })).toMatchObject({ changed: true });
    await until("a→c persisted", () => persisted(a!, c!));

    await pr.kill();
    await pr.start();
    admin.disconnect();
    admin = new Redis(pr.url, { maxRetriesPerRequest: 1 });
    for (const [key, d] of dump) await admin.restore(key, 0, d);
    // following:{a} is back without c: the acknowledged follow is missing in Redis
    expect(await admin.zscore(k.following, String(c))).toBeNull();

    await until("is-following a→c true again", async () =>
      (await relation.client.isFollowing({ fromUserId: a!, toUserId: c! })).following ? true : undefined,
    );
    // and an unfollow really unfollows (not "was not following")
    expect(await relation.client.unfollow({ fromUserId: a!, toUserId: c! })).toMatchObject({ changed: true });
    expect((await relation.client.isFollowing({ fromUserId: a!, toUserId: b! })).following).toBe(true);
  });
});
