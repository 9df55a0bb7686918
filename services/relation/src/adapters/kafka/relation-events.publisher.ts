/**
 * Publishes follow/unfollow transitions on the relation events topic as
 * `relation.v1.RelationEvent`, keyed by the follower's id so one user's
 * transitions stay ordered on one partition.
 */
import { relationV1 } from "@rs/idl";
import { requestIdHeaders, type IdempotentProducer, type ProducerMessage } from "@rs/kafka";
import type { TransitionPublisher } from "../../domain/ports.js";
import type { RelationTransition } from "../../domain/relation-transition.js";

const { RelationEvent, RelationEvent_Action: Action } = relationV1;

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

/**
 * The Kafka record of one transition: key = follower id, value = the encoded
 * event, headers = the id of the request it is published in (none outside one).
 */
export function toRecord(t: RelationTransition): ProducerMessage {
  return { key: String(t.from), value: Buffer.from(RelationEvent.encode(toRelationEvent(t)).finish()), headers: requestIdHeaders() };
}

export class RelationEventsPublisher implements TransitionPublisher {
  constructor(
    private readonly producer: IdempotentProducer,
    private readonly topic: string,
  ) {}

  /** Resolves after the broker's ack (acks=all) of every record; rejects otherwise. */
  publish(transitions: readonly RelationTransition[]): Promise<void> {
    return this.producer.send(this.topic, transitions.map(toRecord));
  }
}
