/**
 * The outboxes are bounded: while Kafka refuses the relation events (the
 * service publishes to a topic that does not exist yet, so every publish
 * fails at the real broker), failed writes queue their two entries until a
 * user's outbox or the number of users with one reaches its bound; past it a
 * write is refused with UNAVAILABLE and changes nothing (no pending entry, no
 * queued entry). Once the topic exists the outboxes drain and writes go
 * through again.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, errorOf, sleep, type RelationInstance, type World } from "./relation-harness.js";

const DRAIN_TIMEOUT_MS = 45_000;

let w: World;
let svc: RelationInstance;
let topic: string;
let u: number[];

beforeAll(async () => {
  w = await createWorld("outbox-bound");
  topic = `${w.topic}.late`;
  svc = await w.relation({
    RELATION_EVENTS_TOPIC: topic,
    OUTBOX_MAX_ENTRIES_PER_USER: "4",
    OUTBOX_MAX_USERS: "2",
    OUTBOX_RETRY_INTERVAL_MS: "200",
    KAFKA_CLIENT_RETRIES: "0",
    KAFKA_PRODUCER_RETRIES: "1",
  });
  u = await w.registerUsers(5);
}, 120_000);

afterAll(async () => {
  await w?.kafkaAdmin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await w?.cleanup();
});

async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("outbox bound", () => {
  it("refuses writes at the per-user and the users bound without changing anything, and writes resume once Kafka takes events", async () => {
    const [a, b, c, d, e] = u as [number, number, number, number, number];
    const { client } = svc;
    const { outbox } = svc.internals.cache;

    // two failed follows of A: 2 entries each, A's outbox at its bound (4)
    for (const to of [b, c]) expect((await errorOf(client.follow({ fromUserId: a, toUserId: to, source: 1 }))).code).toBe(status.UNAVAILABLE);
    expect(await outbox.peekOutbox(a, 100)).toHaveLength(4);

    // a third is refused before anything is decided: no pending entry for D, nothing more queued
    const refused = await errorOf(client.follow({ fromUserId: a, toUserId: d, source: 1 }));
    expect(refused.code).toBe(status.UNAVAILABLE);
    expect(refused.details).toMatch(/outbox/);
    expect(await outbox.peekOutbox(a, 100)).toHaveLength(4);
    expect((await svc.internals.cache.pendingEntries(a)).map((p) => p.to).sort()).toEqual([b, c].sort());

    // the users bound (2): B's failed write makes the second user with an outbox; C, a third, is refused
    expect((await errorOf(client.follow({ fromUserId: b, toUserId: e, source: 1 }))).code).toBe(status.UNAVAILABLE);
    expect((await outbox.outboxUsers(100)).sort()).toEqual([a, b].sort());
    const third = await errorOf(client.follow({ fromUserId: c, toUserId: e, source: 1 }));
    expect(third.code).toBe(status.UNAVAILABLE);
    expect(third.details).toMatch(/2 users already have unpublished entries/);
    expect(await outbox.peekOutbox(c, 100)).toEqual([]);
    expect(await svc.internals.cache.pendingEntries(c)).toEqual([]);

    // Kafka takes the events again: the outboxes drain, then the refused writes go through
    await w.kafkaAdmin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 8, replicationFactor: 1 }] });
    await until("the outboxes to drain", async () => (await outbox.outboxUsers(100)).length === 0);
    await until("a follow of A to succeed", async () => {
      try {
        return (await client.follow({ fromUserId: a, toUserId: d, source: 1 })).changed;
      } catch {
        return false;
      }
    });
    expect(await client.follow({ fromUserId: c, toUserId: e, source: 1 })).toEqual({ changed: true });
    expect(await client.batchIsFollowing({ fromUserId: a, toUserIds: [b, c, d] })).toEqual({ following: [false, false, true] });
  });
});
