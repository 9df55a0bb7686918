/**
 * The count service and count-consumer against the real servers, isolated
 * per test file: throwaway shard databases with the count schema, a unique
 * Redis prefix, a unique etcd service name, a private count.changed topic and
 * consumer group. Everything is removed in `cleanup()`.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createServiceClient, type ServiceClient } from "@rs/grpc";
import { countV1 } from "@rs/idl";
import { createIdempotentProducer, createKafka, type IdempotentProducer, type Kafka } from "@rs/kafka";
import { createLogger } from "@rs/logger";
import { migrate, ShardedMysql } from "@rs/mysql";
import { redisFromUrl, type RedisClient } from "@rs/redis";
import { infra } from "../../../test/infra.js";
import { deleteKeysMatching } from "../../../test/support/redis-keys.js";
import { createThrowawayDatabases, type ThrowawayDatabases } from "../../../pkg/mysql/test/throwaway-databases.js";
import { loadCountConfig, loadCountConsumerConfig } from "../src/config.js";
import { startCountConsumer } from "../src/consumer.process.js";
import { startCountService } from "../src/count.process.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PARTITIONS = 4;

export const logger = createLogger("count-test", process.env.TEST_LOG_LEVEL ?? "silent");

export type CountClient = ServiceClient<countV1.CountServiceClient>;

export interface CountWorld {
  readonly tag: string;
  readonly dbs: ThrowawayDatabases;
  readonly sharded: ShardedMysql;
  readonly prefix: string;
  /** A client of REDIS_URL: a single Redis, or a Cluster in the integration-cluster project. */
  readonly redis: RedisClient;
  readonly kafka: Kafka;
  readonly topic: string;
  readonly producer: IdempotentProducer;
  env(overrides?: Record<string, string>): Record<string, string>;
  /** Starts a count service in-process on port 0 and a client for it. */
  service(overrides?: Record<string, string>): Promise<{ client: CountClient; running: Awaited<ReturnType<typeof startCountService>> }>;
  consumer(overrides?: Record<string, string>): Promise<Awaited<ReturnType<typeof startCountConsumer>>>;
  publish(changes: readonly { userId: number; name: string; value: number; version: number }[]): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createCountWorld(label: string): Promise<CountWorld> {
  const tag = `${label}-${randomBytes(4).toString("hex")}`;
  const dbs = await createThrowawayDatabases(2);
  const sharded = ShardedMysql.create({ dsns: dbs.dsns, virtualShards: 64, poolSize: 4, logger });
  await migrate(sharded, [{ name: "count", dir: path.join(HERE, "../migrations") }], logger);
  const i = infra();
  const prefix = `rs:test:count:${tag}:`;
  const redis = redisFromUrl(i.redisUrl);
  const kafka = createKafka({ brokers: i.kafkaBrokers, clientId: `rs-count-test-${tag}`, logger });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `test.count-changed.${tag}`;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  const producer = await createIdempotentProducer(kafka);
  const stops: (() => Promise<void>)[] = [];
  const groups: string[] = [];

  const env = (overrides: Record<string, string> = {}) => ({
    MYSQL_SHARD_DSNS: dbs.dsns.join(","),
    REDIS_URL: i.redisUrl,
    ETCD_ENDPOINTS: i.etcdEndpoints.join(","),
    KAFKA_BROKERS: i.kafkaBrokers.join(","),
    GRPC_PORT: "0",
    GRPC_HOST: "127.0.0.1",
    ADMIN_PORT: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    SHUTDOWN_TIMEOUT_MS: "2000",
    SERVICE_NAME: `count-test-${tag}`,
    COUNT_KEY_PREFIX: prefix,
    COUNT_CHANGED_TOPIC: topic,
    COUNT_CONSUMER_GROUP: `test-count-consumer-${tag}`,
    ...overrides,
  });
  groups.push(env().COUNT_CONSUMER_GROUP);

  return {
    tag,
    dbs,
    sharded,
    prefix,
    redis,
    kafka,
    topic,
    producer,
    env,
    async service(overrides) {
      const running = await startCountService(loadCountConfig(env(overrides)), { logger });
      const client = createServiceClient(countV1.CountServiceClient, { target: { address: `127.0.0.1:${running.grpcPort}` }, breaker: false, logger });
      stops.push(async () => {
        client.close();
        await running.stop();
      });
      return { client, running };
    },
    async consumer(overrides) {
      const running = await startCountConsumer(loadCountConsumerConfig(env(overrides)), { logger });
      stops.push(() => running.stop());
      return running;
    },
    async publish(changes) {
      await producer.send(
        topic,
        changes.map((c) => ({ key: String(c.userId), value: Buffer.from(countV1.CountChanged.encode(c).finish()) })),
      );
    },
    async cleanup() {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await admin.deleteGroups(groups).catch(() => undefined);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
      await deleteKeysMatching(redis, `${prefix}*`);
      redis.disconnect();
      await sharded.close();
      await dbs.drop();
    },
  };
}

/** Writes counters straight into the count store (as the consumer would). */
export async function seedCounters(
  sharded: ShardedMysql,
  rows: readonly { type: string; id: number; name: string; value: number; version?: number }[],
): Promise<void> {
  for (const r of rows) {
    await sharded
      .poolFor(r.id)
      .query("INSERT INTO counters (entity_id, entity_type, name, value, version, updated_at) VALUES (?, ?, ?, ?, ?, ?)", [
        r.id,
        r.type,
        r.name,
        r.value,
        r.version ?? 1,
        Date.now(),
      ]);
  }
}

export const randomId = () => 1 + Math.floor(Math.random() * 2 ** 50);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
