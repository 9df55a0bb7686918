/**
 * The one codec of `relation.v1.RelationEvent` records: the relation service
 * publishes transitions with it (relation-events.publisher.ts), the persister
 * decodes them with it (persister-batch.handler.ts). A record that cannot be a
 * transition (undecodable bytes, no action, ids or version out of range) is
 * reported, not retried: it would fail the same way forever and stall its
 * partition.
 */
import { relationV1 } from "@rs/idl";
import { isSource, isUserId, type RelationTransition } from "../../domain/relation-transition.js";

const { RelationEvent, RelationEvent_Action: Action } = relationV1;

export type DecodeResult = { readonly ok: true; readonly event: RelationTransition } | { readonly ok: false; readonly reason: string };

const isVersion = (n: number) => Number.isSafeInteger(n) && n > 0;
const isTime = (n: number) => Number.isSafeInteger(n) && n > 0;

/** The wire form of one transition. */
export function toRelationEvent(t: RelationTransition): relationV1.RelationEvent {
  return {
    fromUserId: t.from,
    toUserId: t.to,
    action: t.action === "follow" ? Action.ACTION_FOLLOW : Action.ACTION_UNFOLLOW,
    version: t.version,
    source: t.source,
    occurredAtMs: t.occurredAtMs,
  };
}

/** Encodes a transition as the relation service publishes it. */
export function encodeRelationEvent(t: RelationTransition): Buffer {
  return Buffer.from(RelationEvent.encode(toRelationEvent(t)).finish());
}

/** Decodes one record value. */
export function decodeRelationEvent(value: Buffer | null): DecodeResult {
  if (!value || value.length === 0) return { ok: false, reason: "empty record" };
  let e: relationV1.RelationEvent;
  try {
    e = RelationEvent.decode(value);
  } catch {
    return { ok: false, reason: "not a RelationEvent" };
  }
  const action = e.action === Action.ACTION_FOLLOW ? "follow" : e.action === Action.ACTION_UNFOLLOW ? "unfollow" : undefined;
  if (!action) return { ok: false, reason: `action ${e.action}` };
  if (!isUserId(e.fromUserId) || !isUserId(e.toUserId)) return { ok: false, reason: "user id out of range" };
  if (e.fromUserId === e.toUserId) return { ok: false, reason: "self-follow" };
  if (!isVersion(e.version)) return { ok: false, reason: "version out of range" };
  if (!isTime(e.occurredAtMs)) return { ok: false, reason: "time out of range" };
  if (!isSource(e.source)) return { ok: false, reason: "source out of range" };
  return { ok: true, event: { from: e.fromUserId, to: e.toUserId, action, version: e.version, occurredAtMs: e.occurredAtMs, source: e.source } };
}
