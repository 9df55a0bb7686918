/**
 * The relation service against the real servers, isolated per test file:
 * throwaway shard databases (relation + user schemas), a private Kafka topic,
 * a unique Redis prefix, the real user service in-process under a unique etcd
 * name, and relation instances started in-process on port 0. Everything is
 * removed in `cleanup()`.
 */
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Admin, Kafka } from "kafkajs";
import type { RedisClient } from "@rs/redis";
import type { RunningProcess } from "@rs/bootstrap";
import { createServiceClient, type ServiceClient } from "@rs/grpc";
import { relationV1, userV1 } from "@rs/idl";
import { createKafka } from "@rs/kafka";
import { createLogger } from "@rs/logger";
import { migrate, ShardedMysql } from "@rs/mysql";
import { loadUserConfig, startUserService, type RunningUserService } from "@rs/user";
import { infra } from "../../../test/infra.js";
import { createThrowawayDatabases, type ThrowawayDatabases } from "../../../pkg/mysql/test/throwaway-databases.js";
import { loadRelationConfig, startRelationService, type RelationServiceInternals } from "../src/index.js";
import { redisFixture, type RedisFixture } from "./redis-fixture.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHARDS = 2;
const PARTITIONS = 8;
/** Cheapest bcrypt cost: tests register many users. */
const TEST_BCRYPT_COST = "4";
const TEST_SECRET_BYTES = 32;
const POLL_MS = 50;

export const logger = createLogger("relation-test", process.env.TEST_LOG_LEVEL ?? "silent");

export type RelationClient = ServiceClient<relationV1.RelationServiceClient>;

export interface RelationInstance {
  readonly client: RelationClient;
  readonly address: string;
  readonly running: RunningProcess;
  readonly internals: RelationServiceInternals;
  stop(): Promise<void>;
}

export interface World {
  readonly tag: string;
  readonly dbs: ThrowawayDatabases;
  /** Pools over the throwaway shards, for seeding persisted edges. */
  readonly sharded: ShardedMysql;
  readonly redis: RedisFixture;
  readonly admin: RedisClient;
  readonly kafka: Kafka;
  readonly kafkaAdmin: Admin;
  readonly topic: string;
  readonly userServiceName: string;
  /** The world's user service, run in this process (its use cases change profiles as other processes would). */
  readonly userService: RunningUserService;
  readonly users: ServiceClient<userV1.UserServiceClient>;
  /** Starts a relation instance; `env` overrides its settings. */
  relation(env?: Record<string, string>): Promise<RelationInstance>;
  /** Registers `n` users and returns their ids. */
  registerUsers(n: number): Promise<number[]>;
  /** Every event on the test topic so far (or on `topic` of `kafka`). */
  readEvents(opts?: { kafka?: Kafka; topic?: string }): Promise<relationV1.RelationEvent[]>;
  cleanup(): Promise<void>;
}

export function baseEnv(w: { dbs: ThrowawayDatabases; prefix: string }): Record<string, string> {
  const i = infra();
  return {
    MYSQL_SHARD_DSNS: w.dbs.dsns.join(","),
    REDIS_URL: i.redisUrl,
    // the world's user service announces its profile changes to its relation instances only
    PROFILE_CHANGES_CHANNEL: `${w.prefix}profile-changes`,
    ETCD_ENDPOINTS: i.etcdEndpoints.join(","),
    KAFKA_BROKERS: i.kafkaBrokers.join(","),
    GRPC_PORT: "0",
    ADMIN_PORT: "0",
    GRPC_HOST: "127.0.0.1",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    SHUTDOWN_TIMEOUT_MS: "2000",
  };
}

/** `userEnv`: settings of the world's user service on top of the harness's (e.g. its hot profiles off). */
export async function createWorld(label: string, userEnv: Record<string, string> = {}): Promise<World> {
  const tag = `${label}-${randomBytes(4).toString("hex")}`;
  const dbs = await createThrowawayDatabases(SHARDS);
  const sharded = ShardedMysql.create({ dsns: dbs.dsns, virtualShards: 64, poolSize: 4, logger });
  await migrate(
    sharded,
    [
      { name: "relation", dir: path.join(HERE, "../migrations") },
      { name: "user", dir: path.join(HERE, "../../user/migrations") },
    ],
    logger,
  );
  const redis = redisFixture();
  const admin = redis.client();
  const kafka = createKafka({ brokers: infra().kafkaBrokers, clientId: `rs-relation-test-${tag}`, logger });
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const topic = `test.relation-events.${tag}`;
  await kafkaAdmin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });

  const env = baseEnv({ dbs, prefix: redis.prefix });
  const userServiceName = `user-test-${tag}`;
  const userService: RunningUserService = await startUserService(
    loadUserConfig({
      ...env,
      SERVICE_NAME: userServiceName,
      REDIS_KEY_PREFIX: `${redis.prefix}user:`,
      JWT_SECRET: randomBytes(TEST_SECRET_BYTES).toString("hex"),
      BCRYPT_COST: TEST_BCRYPT_COST,
      ...userEnv,
    }),
  );
  const users = createServiceClient(userV1.UserServiceClient, { target: { address: `127.0.0.1:${userService.grpcPort}` }, breaker: false, logger });
  const instances: RelationInstance[] = [];
  const groups: string[] = [];
  let nextUser = 0;

  return {
    tag,
    dbs,
    sharded,
    redis,
    admin,
    kafka,
    kafkaAdmin,
    topic,
    userServiceName,
    userService,
    users,
    async relation(overrides = {}) {
      const running = await startRelationService(
        loadRelationConfig({
          ...env,
          SERVICE_NAME: `relation-test-${tag}`,
          USER_SERVICE_NAME: userServiceName,
          RELATION_KEY_PREFIX: redis.prefix,
          RELATION_EVENTS_TOPIC: topic,
          OUTBOX_RETRY_INTERVAL_MS: "200",
          ...overrides,
        }),
      );
      const address = `127.0.0.1:${running.grpcPort}`;
      const client = createServiceClient(relationV1.RelationServiceClient, { target: { address }, breaker: false, deadlineMs: 30_000, logger });
      let stopped = false;
      const instance: RelationInstance = {
        client,
        address,
        running,
        internals: running.exposed as RelationServiceInternals,
        async stop() {
          if (stopped) return;
          stopped = true;
          await client.close();
          await running.stop();
        },
      };
      instances.push(instance);
      return instance;
    },
    async registerUsers(n) {
      const ids: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await users.register({ username: `u${tag.replace(/-/g, "")}${nextUser++}`.slice(0, 32), password: "correct horse battery" });
        ids.push(r.userId);
      }
      return ids;
    },
    async readEvents(opts = {}) {
      const k = opts.kafka ?? kafka;
      const t = opts.topic ?? topic;
      const a = k.admin();
      await a.connect();
      const offsets = await a.fetchTopicOffsets(t);
      await a.disconnect();
      const want = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
      const total = [...want.values()].reduce((x, y) => x + y, 0);
      const events: { partition: number; offset: number; event: relationV1.RelationEvent; key: string }[] = [];
      if (total === 0) return [];
      const groupId = `test-relation-read-${tag}-${randomUUID().slice(0, 8)}`;
      groups.push(groupId);
      const consumer = k.consumer({ groupId });
      await consumer.connect();
      await consumer.subscribe({ topic: t, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          events.push({
            partition,
            offset: Number(message.offset),
            key: message.key?.toString() ?? "",
            event: relationV1.RelationEvent.decode(message.value!),
          });
        },
      });
      const deadline = Date.now() + 30_000;
      while (events.length < total) {
        if (Date.now() > deadline) throw new Error(`read ${events.length} of ${total} events`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      await consumer.disconnect();
      for (const e of events) if (e.key !== String(e.event.fromUserId)) throw new Error(`event keyed ${e.key}, not by its follower`);
      return events.sort((x, y) => x.partition - y.partition || x.offset - y.offset).map((e) => e.event);
    },
    async cleanup() {
      for (const i of instances) await i.stop().catch(() => undefined);
      await users.close();
      await userService.stop();
      await kafkaAdmin.deleteGroups(groups).catch(() => undefined);
      await kafkaAdmin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await kafkaAdmin.disconnect();
      await sharded.close();
      await dbs.drop();
      await redis.cleanup();
    },
  };
}

/** Inserts a persisted edge A→B into both tables (as the persister would have), with counts left alone. */
export async function seedEdge(w: World, from: number, to: number, timeMs: number, version = timeMs): Promise<void> {
  const row = [from, to, 0, 1, timeMs, version, timeMs];
  await w.sharded.poolFor(from).query("INSERT INTO follows (from_user_id, to_user_id, source, status, created_at, version, updated_at) VALUES (?)", [row]);
  await w.sharded
    .poolFor(to)
    .query("INSERT INTO fans (to_user_id, from_user_id, source, status, created_at, version, updated_at) VALUES (?)", [
      [to, from, 0, 1, timeMs, version, timeMs],
    ]);
}

/** Many persisted fans of B at once (both tables, as the persister would have written them), and B's follower count. */
export async function seedFans(w: World, b: number, fans: readonly { from: number; timeMs: number }[], followerCount = fans.length): Promise<void> {
  const CHUNK = 1_000;
  const pool = w.sharded.poolFor(b);
  for (let i = 0; i < fans.length; i += CHUNK) {
    const rows = fans.slice(i, i + CHUNK).map((f) => [b, f.from, 0, 1, f.timeMs, f.timeMs, f.timeMs]);
    await pool.query("INSERT INTO fans (to_user_id, from_user_id, source, status, created_at, version, updated_at) VALUES ?", [rows]);
  }
  for (const [physical, group] of w.sharded.groupByShard(fans, (f) => f.from)) {
    for (let i = 0; i < group.length; i += CHUNK) {
      const rows = group.slice(i, i + CHUNK).map((f) => [f.from, b, 0, 1, f.timeMs, f.timeMs, f.timeMs]);
      await w.sharded.pool(physical).query("INSERT INTO follows (from_user_id, to_user_id, source, status, created_at, version, updated_at) VALUES ?", [rows]);
    }
  }
  await pool.query("INSERT INTO follower_counts (user_id, follower_count, version, updated_at) VALUES (?, ?, 1, ?)", [b, followerCount, Date.now()]);
}

/** The gRPC status code of a rejected call. */
export async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

/** Message of a rejected call. */
export async function errorOf(p: Promise<unknown>): Promise<{ code?: number; details?: string }> {
  try {
    await p;
    return {};
  } catch (err) {
    return { code: (err as { code?: number }).code, details: (err as { details?: string }).details };
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
