/**
 * A dependency outage of one method class never takes down the others: the
 * relation service's Kafka dies, so its Follow answers UNAVAILABLE; under a
 * mixed load where follows are more than half the calls, the gateway's
 * breaker for relation writes opens, and reads (which need no Kafka) keep
 * answering 200 throughout. The suite runs as child processes; relation
 * publishes to a PRIVATE broker that the test kills (SIGKILL).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafka } from "../pkg/kafka/src/index.js";
import { createLogger } from "../pkg/logger/src/index.js";
import { api, uniqueName } from "../gateway/test/support/http.js";
import { parsePrometheusText, sampleSum } from "./support/prometheus-text.js";
import { privateKafka, type PrivateKafka } from "./support/private-kafka.js";
import { startSuite, type Suite } from "./support/suite.js";

const TOPIC = `breaker.relation.events.${randomBytes(4).toString("hex")}`;
const UNLIMITED = "1000000";
/** One round of load every TICK_MS: FOLLOWS_PER_TICK follows and READS_PER_TICK reads, concurrently. */
const TICK_MS = 200;
const FOLLOWS_PER_TICK = 3;
const READS_PER_TICK = 2;
/** Long enough for the breaker's 10 s window to see well over its minimum of 2 calls/s. */
const LOAD_MS = 8_000;
const RELATION = "relation.v1.RelationService";
/**
 * Follows rotate over this many targets, so a target comes round again only
 * after its last (failed, undone) follow has finished: a concurrent follow of
 * an edge whose transition is still being published answers "already following".
 */
const TARGETS = 15;

let broker: PrivateKafka | undefined;
let suite: Suite | undefined;

beforeAll(async () => {
  broker = await privateKafka();
  await broker.start();
  const kafka = createKafka({ brokers: broker.brokers, clientId: "rs-breaker-test", logger: createLogger("breaker-test", "error") });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 1 }] });
  await admin.disconnect();
  suite = await startSuite({
    label: "breakertest",
    apps: ["user", "relation", "gateway"],
    envFor: {
      // A dead broker fails a publish after one short retry, well within the gateway's deadline.
      relation: {
        KAFKA_BROKERS: broker.brokers.join(","),
        RELATION_EVENTS_TOPIC: TOPIC,
        KAFKA_CLIENT_RETRIES: "0",
        KAFKA_PRODUCER_RETRIES: "1",
        KAFKA_RETRY_INITIAL_MS: "50",
        KAFKA_RETRY_MAX_MS: "100",
      },
      gateway: { RATE_LIMIT_USER_CAPACITY: UNLIMITED, RATE_LIMIT_IP_CAPACITY: UNLIMITED, RATE_LIMIT_AUTH_CAPACITY: UNLIMITED },
    },
  });
}, 240_000);

afterAll(async () => {
  await suite?.stop();
  await broker?.destroy();
});

const register = async (url: string) => {
  const r = await api<{ userId: number; token: string }>(url, "POST", "/user/register", { body: { username: uniqueName("brk"), password: "secret-pw" } });
  expect(r.status).toBe(201);
  return { id: r.body.userId, token: r.body.token };
};

async function gatewayMetric(s: Suite, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${s.adminUrl("gateway")}/metrics`)).text();
  return sampleSum(parsePrometheusText(text), name, labels);
}

describe("relation's Kafka down", () => {
  it("follows answer 503 and open the write breaker; reads keep answering 200", async () => {
    const s = suite!;
    const [a, b] = [await register(s.gatewayUrl), await register(s.gatewayUrl)];
    const targets = await Promise.all(Array.from({ length: TARGETS }, () => register(s.gatewayUrl)));
    const followed = await api(s.gatewayUrl, "POST", "/relation/follow", { token: a.token, body: { followUserId: b.id } });
    expect(followed.status).toBe(200);

    await broker!.stop();

    const follows: number[] = [];
    const reads: Array<{ route: string; status: number; body: unknown }> = [];
    const follow = async (i: number) => {
      const r = await api(s.gatewayUrl, "POST", "/relation/follow", { token: a.token, body: { followUserId: targets[i % TARGETS]!.id } });
      follows.push(r.status);
    };
    const read = async (i: number) => {
      const r =
        i % 2 === 0
          ? await api(s.gatewayUrl, "GET", "/relation/following", { token: a.token, query: { userId: a.id } })
          : await api(s.gatewayUrl, "GET", "/relation/is_following", { token: a.token, query: { targetUserId: b.id } });
      reads.push({ route: i % 2 === 0 ? "following" : "is_following", status: r.status, body: r.body });
    };
    const inFlight: Promise<void>[] = [];
    const end = Date.now() + LOAD_MS;
    for (let tick = 0; Date.now() < end; tick++) {
      for (let i = 0; i < FOLLOWS_PER_TICK; i++) inFlight.push(follow(tick * FOLLOWS_PER_TICK + i));
      for (let i = 0; i < READS_PER_TICK; i++) inFlight.push(read(tick * READS_PER_TICK + i));
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    await Promise.all(inFlight);

    // Every read answered, the edge made before the outage included ...
    expect(reads.length).toBeGreaterThan(10);
    expect(reads.filter((r) => r.status !== 200)).toEqual([]);
    expect(reads.find((r) => r.route === "is_following")?.body).toEqual({ following: true });
    expect(await gatewayMetric(s, "grpc_client_circuit_breaker_transitions_total", { grpc_service: RELATION, method_class: "read", state: "open" })).toBe(0);
    // ... while every follow failed with 503 and the write breaker opened (failing follows are shed at the gateway).
    expect(follows.length).toBeGreaterThan(20);
    expect(follows.filter((x) => x !== 503)).toEqual([]);
    expect(
      await gatewayMetric(s, "grpc_client_circuit_breaker_transitions_total", { grpc_service: RELATION, method_class: "write", state: "open" }),
    ).toBeGreaterThan(0);
  });
});
