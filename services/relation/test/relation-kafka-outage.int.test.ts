/**
 * Kafka away: a follow or unfollow that cannot be published is answered
 * UNAVAILABLE and leaves the relation in Redis as it was (undone by a newer
 * transition, both queued in the outbox); once the broker is back, writes
 * resume and the outbox drains, so Kafka ends up with exactly one event per
 * transition made in Redis. Uses a PRIVATE broker, stopped and restarted here.
 */
import { status } from "@grpc/grpc-js";
import type { Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { relationV1 } from "@rs/idl";
import { createKafka } from "@rs/kafka";
import { codeOf, createWorld, logger, sleep, type RelationInstance, type World } from "./relation-harness.js";
import { privateKafka, type PrivateKafka } from "../../../test/support/private-kafka.js";

const { ACTION_FOLLOW, ACTION_UNFOLLOW } = relationV1.RelationEvent_Action;
const TOPIC = "relation.events.private";
const RESUME_TIMEOUT_MS = 45_000;

let w: World;
let broker: PrivateKafka;
let kafka: Kafka;
let svc: RelationInstance;
let u: number[];

beforeAll(async () => {
  broker = await privateKafka();
  await broker.start();
  kafka = createKafka({ brokers: broker.brokers, clientId: "rs-relation-outage-test", logger });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 8, replicationFactor: 1 }] });
  await admin.disconnect();
  w = await createWorld("outage");
  svc = await w.relation({ KAFKA_BROKERS: broker.brokers.join(","), RELATION_EVENTS_TOPIC: TOPIC, OUTBOX_RETRY_INTERVAL_MS: "200" });
  u = await w.registerUsers(3);
}, 180_000);

afterAll(async () => {
  await w?.cleanup();
  await broker?.destroy();
});

async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + RESUME_TIMEOUT_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("Kafka unavailable", () => {
  it("answers UNAVAILABLE and leaves Redis unchanged; once Kafka is back, writes resume and the outbox drains", async () => {
    const [a, b, c] = [u[0]!, u[1]!, u[2]!];
    const { cache, fans } = svc.internals;
    const client = svc.client;
    expect(await client.follow({ fromUserId: a, toUserId: b, source: 5 })).toEqual({ changed: true });

    await broker.stop();
    expect(await codeOf(client.follow({ fromUserId: a, toUserId: c, source: 6 }))).toBe(status.UNAVAILABLE);
    expect(await codeOf(client.unfollow({ fromUserId: a, toUserId: b }))).toBe(status.UNAVAILABLE);

    // the relation state is what it was before the two failed requests
    expect(await client.batchIsFollowing({ fromUserId: a, toUserIds: [b, c] })).toEqual({ following: [true, false] });
    expect((await client.listFollowing({ userId: a, cursor: "", limit: 10, viewerId: 0 })).users.map((x) => x.id)).toEqual([b]);
    expect((await client.listFans({ userId: c, cursor: "", limit: 10, viewerId: 0 })).users).toEqual([]);
    expect((await client.listFans({ userId: b, cursor: "", limit: 10, viewerId: 0 })).users.map((x) => x.id)).toEqual([a]);
    // each failed transition and its undo wait in A's outbox
    const queued = await cache.outbox.peekOutbox(a, 100);
    expect(queued.map((t) => [t.to, t.action])).toEqual([
      [c, "follow"],
      [c, "unfollow"],
      [b, "unfollow"],
      [b, "follow"],
    ]);
    expect(await cache.outbox.outboxUsers(1_000)).toContain(a);

    await broker.start();
    await until("the outbox to drain", async () => (await cache.outbox.peekOutbox(a, 1)).length === 0 && !(await cache.outbox.outboxUsers(1_000)).includes(a));
    // writes resume (the producer may need a moment to find the broker again)
    await until("a follow to succeed", async () => {
      try {
        return (await client.follow({ fromUserId: a, toUserId: c, source: 7 })).changed;
      } catch {
        return false;
      }
    });
    expect(await client.batchIsFollowing({ fromUserId: a, toUserIds: [b, c] })).toEqual({ following: [true, true] });
    expect((await client.listFans({ userId: c, cursor: "", limit: 10, viewerId: 0 })).users.map((x) => x.id)).toEqual([a]);
    expect((await fans.fansPage(b, undefined, 10)).status).toBe("ok");

    // Kafka holds one event per transition Redis made: 1 + 2 × 2 queued + 1
    const events = (await w.readEvents({ kafka, topic: TOPIC })).filter((e) => e.fromUserId === a);
    expect(new Set(events.map((e) => e.version)).size).toBe(events.length);
    const byPair = (to: number) =>
      events
        .filter((e) => e.toUserId === to)
        .sort((x, y) => x.version - y.version)
        .map((e) => e.action);
    expect(byPair(b)).toEqual([ACTION_FOLLOW, ACTION_UNFOLLOW, ACTION_FOLLOW]);
    expect(byPair(c)).toEqual([ACTION_FOLLOW, ACTION_UNFOLLOW, ACTION_FOLLOW]);
    const pending = await cache.pendingEntries(a);
    for (const to of [b, c]) {
      const last = events.filter((e) => e.toUserId === to).reduce((m, e) => (e.version > m.version ? e : m));
      expect(pending.find((p) => p.to === to)?.version).toBe(last.version);
    }
  });
});
