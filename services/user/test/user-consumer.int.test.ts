/**
 * The user-consumer against the real Kafka broker (a private topic and group):
 * count.changed records reach the users' redundant counters and the profile
 * cache; stale versions, duplicates and unreadable records change nothing and
 * do not stall the partition.
 */
import { randomBytes } from "node:crypto";
import type { RunningProcess } from "@rs/bootstrap";
import { countChangedBatchHeaders, countV1 } from "@rs/idl";
import { createIdempotentProducer, createKafka, type IdempotentProducer, type Kafka } from "@rs/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { infra } from "../../../test/infra.js";
import { loadUserConsumerConfig } from "../src/config.js";
import { startUserConsumer } from "../src/consumer.process.js";
import type { RunningUserService } from "../src/user.process.js";
import { logger, uniqueName, userFixture, waitFor, type UserFixture } from "./user-fixture.js";

const PARTITIONS = 4;

let fx: UserFixture;
let svc: RunningUserService;
let consumer: RunningProcess;
let admin: ReturnType<Kafka["admin"]>;
let producer: IdempotentProducer;
const topic = `test.count-changed.user.${randomBytes(5).toString("hex")}`;
const group = `test-user-consumer-${randomBytes(5).toString("hex")}`;

beforeAll(async () => {
  fx = await userFixture();
  svc = await fx.start();
  const kafka = createKafka({ brokers: infra().kafkaBrokers, clientId: "user-consumer-test", logger });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  producer = await createIdempotentProducer(kafka);
  consumer = await startUserConsumer(
    loadUserConsumerConfig({ ...fx.env, KAFKA_BROKERS: infra().kafkaBrokers.join(","), COUNT_CHANGED_TOPIC: topic, USER_CONSUMER_GROUP: group }),
    { logger },
  );
});

afterAll(async () => {
  await consumer?.stop();
  await producer?.disconnect();
  if (admin) {
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  await fx?.cleanup();
});

const record = (userId: number, name: string, value: number, version: number) => ({
  key: String(userId),
  value: Buffer.from(countV1.CountChanged.encode({ userId, name, value, version }).finish()),
});

describe("user-consumer", () => {
  it("applies the newest version of each counter and invalidates the cached profile", async () => {
    const client = fx.client();
    const { userId } = await client.register({ username: uniqueName("fan"), password: "consumer-pass" });
    expect((await client.getUser({ userId })).user?.followerCount).toBe(0);
    await waitFor("profile cached", async () => (await fx.redis.get(svc.internals.cache.key(userId)))?.startsWith("P") === true);

    await producer.send(topic, [
      record(userId, "follower", 5, 100),
      record(userId, "follower", 3, 90), // older: ignored even though it comes later
      Object.assign(record(userId, "follower", 99, 1), { value: Buffer.from("not protobuf at all \u0000\u00ff") }),
      record(userId, "likes", 1, 1_000), // not a counter of ours
      record(userId, "following", 2, 7),
      record(userId, "following", 2, 7), // duplicate
    ]);
    await waitFor("counts applied", async () => {
      const user = (await client.getUser({ userId })).user;
      return user?.followerCount === 5 && user.followCount === 2;
    });
    const [row] = await fx.rows("users", "id = ?", [userId]);
    expect([Number(row!.follower_count_version), Number(row!.follow_count_version)]).toEqual([100, 7]);

    // The partition goes on after the unreadable record.
    await producer.send(topic, [record(userId, "follower", 6, 101)]);
    await waitFor("later record applied", async () => (await client.getUser({ userId })).user?.followerCount === 6);
  });

  it("applies count.v1.CountChangedBatch records (the persister's form), checking each change on its own", async () => {
    const client = fx.client();
    const [a, b] = await Promise.all(["batch-a", "batch-b"].map((n) => client.register({ username: uniqueName(n), password: "consumer-pass" })));
    const changes: countV1.CountChanged[] = [
      { userId: a!.userId, name: "follower", value: 4, version: 40 },
      { userId: b!.userId, name: "following", value: 9, version: 90 },
      { userId: b!.userId, name: "likes", value: 1, version: 1_000 }, // not a counter of ours: refused alone
      { userId: a!.userId, name: "follower", value: 2, version: 20 }, // older: ignored
    ];
    await producer.send(topic, [
      { key: String(a!.userId), value: Buffer.from(countV1.CountChangedBatch.encode({ changes }).finish()), headers: countChangedBatchHeaders() },
    ]);
    await waitFor("batch applied", async () => {
      const [ua, ub] = await Promise.all([client.getUser({ userId: a!.userId }), client.getUser({ userId: b!.userId })]);
      return ua.user?.followerCount === 4 && ub.user?.followCount === 9;
    });
    const [row] = await fx.rows("users", "id = ?", [a!.userId]);
    expect(Number(row!.follower_count_version)).toBe(40);
  });

  it("reports ready on its admin port", async () => {
    const res = await fetch(`http://127.0.0.1:${consumer.adminPort}/readyz`);
    expect(res.status).toBe(200);
  });
});
