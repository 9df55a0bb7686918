/**
 * End to end through the real relation service: Follow and Unfollow over gRPC
 * (Redis first, then relation.events), then the persister, count.changed, the
 * count-consumer and the user-consumer. Within the stated bound the edge is in
 * both shards, the pending overlay is cleared, the count service and the
 * users' profile counters show the new counts.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceClient, type ServiceClient } from "@rs/grpc";
import { countV1 } from "@rs/idl";
import { migrate, type RowDataPacket } from "@rs/mysql";
import { loadUserConsumerConfig, startUserConsumer } from "@rs/user";
import { infra } from "../../../test/infra.js";
import { loadCountConfig, loadCountConsumerConfig, startCountConsumer, startCountService } from "../../count/src/index.js";
import { loadPersisterConfig } from "../src/config.js";
import { startPersister } from "../src/persister/persister.process.js";
import { createWorld, logger, type RelationInstance, type World } from "./relation-harness.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The stated bound from the client's "ok" to every store showing the change. */
const BOUND_MS = 1_000;
const POLL_MS = 10;

let w: World;
let relation: RelationInstance;
let counts: ServiceClient<countV1.CountServiceClient>;
let countsTopic: string;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  // The bound is the pipeline's: the read side's hot-key caches (a key polled this often is
  // hot, and then up to 1 s old by design, ADR 18) are off in the services read here.
  w = await createWorld("e2e", { PROFILE_HOT_CACHE_SIZE: "0" });
  await migrate(w.sharded, [{ name: "count", dir: path.join(HERE, "../../count/migrations") }], logger);
  countsTopic = `test.count-changed.${w.tag}`;
  await w.kafkaAdmin.createTopics({ waitForLeaders: true, topics: [{ topic: countsTopic, numPartitions: 4, replicationFactor: 1 }] });
  const i = infra();
  const env = {
    MYSQL_SHARD_DSNS: w.dbs.dsns.join(","),
    REDIS_URL: i.redisUrl,
    ETCD_ENDPOINTS: i.etcdEndpoints.join(","),
    KAFKA_BROKERS: i.kafkaBrokers.join(","),
    ADMIN_PORT: "0",
    GRPC_PORT: "0",
    GRPC_HOST: "127.0.0.1",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    COUNT_CHANGED_TOPIC: countsTopic,
  };
  relation = await w.relation();
  const persister = await startPersister(
    loadPersisterConfig({
      ...env,
      RELATION_KEY_PREFIX: w.redis.prefix,
      RELATION_EVENTS_TOPIC: w.topic,
      PERSISTER_GROUP: `test-persister-${w.tag}`,
      RECONCILE_INTERVAL_MS: "0",
    }),
    { logger },
  );
  stops.push(() => persister.stop());
  const countEnv = {
    ...env,
    SERVICE_NAME: `count-test-${w.tag}`,
    COUNT_KEY_PREFIX: `${w.redis.prefix}cnt:`,
    COUNT_CONSUMER_GROUP: `test-count-consumer-${w.tag}`,
    COUNT_HOT_CACHE_SIZE: "0",
  };
  const countConsumer = await startCountConsumer(loadCountConsumerConfig(countEnv), { logger });
  stops.push(() => countConsumer.stop());
  const countService = await startCountService(loadCountConfig(countEnv), { logger });
  stops.push(() => countService.stop());
  counts = createServiceClient(countV1.CountServiceClient, { target: { address: `127.0.0.1:${countService.grpcPort}` }, breaker: false, logger });
  stops.push(async () => counts.close());
  // The user service of the harness keeps its profile cache under this prefix.
  const userConsumer = await startUserConsumer(
    loadUserConsumerConfig({ ...env, REDIS_KEY_PREFIX: `${w.redis.prefix}user:`, USER_CONSUMER_GROUP: `test-user-consumer-${w.tag}` }),
    { logger },
  );
  stops.push(() => userConsumer.stop());
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await w?.kafkaAdmin.deleteGroups([`test-persister-${w.tag}`, `test-count-consumer-${w.tag}`, `test-user-consumer-${w.tag}`]).catch(() => undefined);
  await w?.kafkaAdmin.deleteTopics({ topics: [countsTopic] }).catch(() => undefined);
  await w?.cleanup();
});

async function within(what: string, cond: () => Promise<boolean>, t0: number): Promise<number> {
  while (!(await cond())) {
    if (Date.now() - t0 > BOUND_MS) throw new Error(`${what} not there after ${BOUND_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return Date.now() - t0;
}

const edgeStatus = async (table: "follows" | "fans", a: number, b: number) => {
  const [owner, other] = table === "follows" ? [a, b] : [b, a];
  const col = table === "follows" ? ["from_user_id", "to_user_id"] : ["to_user_id", "from_user_id"];
  const [rows] = await w.sharded.poolFor(owner).query<RowDataPacket[]>(`SELECT status FROM ${table} WHERE ${col[0]} = ? AND ${col[1]} = ?`, [owner, other]);
  return rows[0] === undefined ? undefined : Number(rows[0].status);
};

async function everywhere(a: number, b: number, following: 0 | 1, t0: number): Promise<void> {
  await Promise.all([
    within("follows row", async () => (await edgeStatus("follows", a, b)) === following, t0),
    within("fans row", async () => (await edgeStatus("fans", a, b)) === following, t0),
    within("pending cleared", async () => (await w.admin.hlen(`${w.redis.prefix}pending:{${a}}`)) === 0, t0),
    within(
      "count service",
      async () => {
        const r = await counts.batchGetCounts({ userIds: [a, b] });
        return r.counts[0]?.followingCount === following && r.counts[1]?.followerCount === following;
      },
      t0,
    ),
    within(
      "profile counters",
      async () => {
        const r = await w.users.batchGetUsers({ userIds: [a, b], skipProcessCache: false });
        return r.users[0]?.followCount === following && r.users[1]?.followerCount === following;
      },
      t0,
    ),
  ]);
}

describe("follow, end to end", () => {
  it(`reaches both shards, the count service and the profiles within ${BOUND_MS} ms, and so does the unfollow`, async () => {
    const [a, b] = await w.registerUsers(2);
    let t0 = Date.now();
    expect((await relation.client.follow({ fromUserId: a!, toUserId: b!, source: 3 })).changed).toBe(true);
    await everywhere(a!, b!, 1, t0);

    t0 = Date.now();
    expect((await relation.client.unfollow({ fromUserId: a!, toUserId: b! })).changed).toBe(true);
    await everywhere(a!, b!, 0, t0);
  }, 60_000);
});
