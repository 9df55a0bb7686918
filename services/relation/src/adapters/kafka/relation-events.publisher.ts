/**
 * Publishes follow/unfollow transitions on the relation events topic as
 * `relation.v1.RelationEvent` (relation-event.codec.ts), keyed by the follower's id so one user's
 * transitions stay ordered on one partition.
 */
import { requestIdHeaders, type IdempotentProducer, type ProducerMessage } from "@rs/kafka";
import type { TransitionPublisher } from "../../domain/ports.js";
import type { RelationTransition } from "../../domain/relation-transition.js";
import { encodeRelationEvent } from "./relation-event.codec.js";

/**
 * The Kafka record of one transition: key = follower id, value = the encoded
 * event, headers = the id of the request it is published in (none outside one).
 */
export function toRecord(t: RelationTransition): ProducerMessage {
  return { key: String(t.from), value: encodeRelationEvent(t), headers: requestIdHeaders() };
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
