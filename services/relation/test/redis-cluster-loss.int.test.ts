/**
 * On a Redis Cluster one master restarts and comes back with its keyspace
 * behind (killed, started empty, and given back one user's keys as they were a
 * follow earlier: what a master restarting from an AOF that missed its last
 * second, or a replica promoted without its master's last writes, holds).
 * Only that master's slots lost writes. The persister's loss watch compares
 * each master's run_id with that master's own marker, notices the one that
 * changed, and checks the cached lists on that master only (once it has
 * persisted what was published): the stale following:{A} is dropped and
 * reloaded, so the acknowledged follow is visible again.
 *
 * The cluster is this file's own (test/support/redis-cluster.ts, ports derived
 * from the stack's Redis port), since one of its masters is restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyOnNode, keySlot, redisFromUrl, type Cluster, type RedisClient } from "@rs/redis";
import { formRedisCluster } from "../../../deploy/stack/redis-cluster.js";
import { HOST } from "../../../deploy/stack/settings.js";
import { CLUSTER_FIXTURES, startRedisCluster, type RedisClusterFixture } from "../../../test/support/redis-cluster.js";
import { waitFor } from "../../../test/support/wait-for.js";
import type { PersisterInternals } from "../src/persister/persister.process.js";
import type { RelationInstance, World } from "./relation-harness.js";
import { redisLossWorld, type RedisLossWorld } from "./redis-loss-fixture.js";

const CONVERGE_TIMEOUT_MS = 30_000;
let world: RedisLossWorld;
let w: World;
let cluster: RedisClusterFixture;
let relation: RelationInstance;
let persister: PersisterInternals;
let admin: RedisClient;

beforeAll(async () => {
  cluster = await startRedisCluster(CLUSTER_FIXTURES.relationLoss);
  world = await redisLossWorld("clusterloss", cluster.url);
  ({ w, relation } = world);
  persister = world.persister.internals;
  admin = redisFromUrl(cluster.url, { maxRetriesPerRequest: 1 });
}, 120_000);

afterAll(async () => {
  admin?.disconnect();
  await world?.cleanup();
  await cluster?.destroy();
});

const persisted = (from: number, to: number) => world.persisted(from, to);

describe("a Redis Cluster master that lost its last writes", () => {
  it("is noticed on its own and the cached lists it serves converge to the shards", async () => {
    const watch = persister.lossWatch;
    // at start every master is new to the watch (no marker yet): one recovery over all three
    await waitFor("the first check of every master", () => watch.lastVerification?.masters.length === cluster.nodes.length, CONVERGE_TIMEOUT_MS);

    const [a, b, c] = await w.registerUsers(3);
    const k = { following: `${w.redis.prefix}following:{${a}}`, meta: `${w.redis.prefix}meta:{${a}}` };
    expect(await relation.client.follow({ fromUserId: a!, toUserId: b!, source: 0 })).toMatchObject({ changed: true });
    await waitFor("a→b persisted", () => persisted(a!, b!), CONVERGE_TIMEOUT_MS);

    // A's keys as the restarted master will hold them: one follow behind, and that master's marker last (so
    // whether the watch looks before or after the keys are back, its last look sees a restart and checks them)
    const owner = (admin as Cluster).slots[keySlot(k.following)]![0]!;
    const ownerNode = (admin as Cluster).nodes("master").find((n) => `${n.options.host}:${n.options.port}` === owner)!;
    const marker = keyOnNode(admin as Cluster, ownerNode, (tag) => `${w.redis.prefix}redis-run:{${tag}}`)!;
    const dump = new Map<string, Buffer>();
    for (const key of [...Object.values(k), marker]) {
      const d = await admin.dumpBuffer(key);
      if (d) dump.set(key, d);
    }
    expect(await relation.client.follow({ fromUserId: a!, toUserId: c!, source: 0 })).toMatchObject({ changed: true });
    await waitFor("a→c persisted", () => persisted(a!, c!), CONVERGE_TIMEOUT_MS);

    // the master serving A's slot restarts empty (its nodes.conf keeps its id and slots), then gets the stale keys back
    const server = cluster.servers.find((s) => `127.0.0.1:${s.port}` === owner)!;
    const verifiedBefore = watch.verifications;
    await server.kill();
    await server.start();
    // back in the cluster (it answers CLUSTERDOWN until it has heard from the others): a bounded wait for cluster_state:ok
    await formRedisCluster(
      HOST,
      cluster.nodes.map((n) => n.port),
    );
    const node = redisFromUrl(server.url, { maxRetriesPerRequest: 1 });
    try {
      for (const [key, d] of dump) await node.restore(key, 0, d, "REPLACE");
    } finally {
      node.disconnect();
    }

    await waitFor(
      "a check of the restarted master's lists that dropped the stale following:{A}",
      () => watch.verifications > verifiedBefore && (watch.lastVerification?.report.followingDropped ?? 0) > 0,
      CONVERGE_TIMEOUT_MS,
    );
    // only the master that lost writes: the other two kept theirs
    expect(watch.lastVerification?.masters).toEqual([owner]);
    expect((await relation.client.isFollowing({ fromUserId: a!, toUserId: c! })).following).toBe(true);
    // and an unfollow really unfollows (not "was not following")
    expect(await relation.client.unfollow({ fromUserId: a!, toUserId: c! })).toMatchObject({ changed: true });
    expect((await relation.client.isFollowing({ fromUserId: a!, toUserId: b! })).following).toBe(true);
  });
});
