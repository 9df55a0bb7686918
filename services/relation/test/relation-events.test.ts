import { describe, expect, it } from "vitest";
import { relationV1 } from "@rs/idl";
import { withRequestId } from "@rs/logger";
import { toRelationEvent } from "../src/adapters/kafka/relation-event.codec.js";
import { toRecord } from "../src/adapters/kafka/relation-events.publisher.js";
import { withOrigins } from "../src/persister/count-changed.publisher.js";

describe("relation events", () => {
  it("encodes a transition as relation.v1.RelationEvent keyed by the follower", () => {
    const t = { from: 2 ** 52 + 7, to: 9, action: "unfollow" as const, version: 1_700_000_000_000_123, occurredAtMs: 1_700_000_000_000, source: -4 };
    const record = toRecord(t);
    expect(record.key).toBe(String(t.from));
    const decoded = relationV1.RelationEvent.decode(record.value as Buffer);
    expect(decoded).toEqual(toRelationEvent(t));
    expect(decoded).toMatchObject({ fromUserId: t.from, toUserId: 9, action: relationV1.RelationEvent_Action.ACTION_UNFOLLOW, version: t.version, source: -4 });
    expect(toRelationEvent({ ...t, action: "follow" }).action).toBe(relationV1.RelationEvent_Action.ACTION_FOLLOW);
  });
});

describe("request ids on relation events and count.changed", () => {
  const t = { from: 11, to: 22, action: "follow" as const, version: 5, occurredAtMs: 1_700_000_000_000, source: 0 };

  it("a transition published inside a request names it; outside one (the outbox drainer) nothing", () => {
    expect(withRequestId("req-rel-1", () => toRecord(t)).headers).toEqual({ "x-request-id": "req-rel-1" });
    expect(toRecord(t).headers).toEqual({});
  });

  it("each count change gets the ids of the transitions that count for it", () => {
    const events = [
      { ...t, requestIds: ["r1"] },
      { ...t, to: 33, version: 6, requestIds: ["r2"] },
      { ...t, from: 44, version: 7 },
    ];
    const changes = [
      { userId: 11, name: "following" as const, value: 2, version: 6 },
      { userId: 22, name: "follower" as const, value: 1, version: 5 },
      { userId: 33, name: "follower" as const, value: 1, version: 6 },
      { userId: 44, name: "following" as const, value: 1, version: 7 },
      { userId: 11, name: "follower" as const, value: 0, version: 1 },
    ];
    expect(withOrigins(changes, events).map((c) => [c.userId, c.name, c.requestIds])).toEqual([
      [11, "following", ["r1", "r2"]],
      [22, "follower", ["r1"]],
      [33, "follower", ["r2"]],
      [44, "following", undefined],
      [11, "follower", undefined],
    ]);
    expect(withOrigins(changes, [{ ...t }])).toBe(changes);
  });
});
