import { describe, expect, it } from "vitest";
import { relationV1 } from "@rs/idl";
import { toRecord, toRelationEvent } from "../src/adapters/kafka/relation-events.publisher.js";

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
