/**
 * Shared set-up of the Kafka integration tests: a client against the real
 * broker, private topics and groups with random names, and their clean-up.
 */
import { randomUUID } from "node:crypto";
import type { Admin, Kafka } from "kafkajs";
import { createLogger } from "@rs/logger";
import { infra } from "../../../test/infra.js";
import { createKafka } from "../src/index.js";

export const TEST_PARTITIONS = 8;
const POLL_MS = 25;

export const logger = createLogger("kafka-test", process.env.TEST_LOG_LEVEL ?? "silent");

export interface KafkaTestKit {
  readonly kafka: Kafka;
  readonly admin: Admin;
  /** Creates a private topic with {@link TEST_PARTITIONS} partitions. */
  topic(label: string): Promise<string>;
  /** A private consumer group name, deleted at clean-up. */
  group(label: string): string;
  /** Committed offsets of `group` on `topic`, by partition (-1 when none). */
  committed(group: string, topic: string): Promise<Map<number, number>>;
  cleanup(): Promise<void>;
}

export async function kafkaTestKit(): Promise<KafkaTestKit> {
  const kafka = createKafka({ brokers: infra().kafkaBrokers, clientId: "rs-kafka-test", logger });
  const admin = kafka.admin();
  await admin.connect();
  const topics: string[] = [];
  const groups: string[] = [];
  const run = randomUUID().slice(0, 8);
  return {
    kafka,
    admin,
    async topic(label) {
      const name = `test.${label}.${run}.${randomUUID().slice(0, 8)}`;
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: TEST_PARTITIONS, replicationFactor: 1 }] });
      topics.push(name);
      return name;
    },
    group(label) {
      const name = `test-${label}-${run}-${randomUUID().slice(0, 8)}`;
      groups.push(name);
      return name;
    },
    async committed(group, topic) {
      const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    },
    async cleanup() {
      try {
        if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
        if (topics.length > 0) await admin.deleteTopics({ topics });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Polls `cond` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
