/**
 * Publishes `count.v1.CountChanged` records: a user's count as an absolute
 * value with its version, keyed by the user id so the changes of one user stay
 * ordered on one partition. Consumers keep a value only when its version is
 * newer than theirs, so publishing the same value twice is harmless.
 */
import { countV1 } from "@rs/idl";
import type { IdempotentProducer } from "@rs/kafka";
import type { CountChange } from "./edge-side.repository.js";

export interface CountChangeSink {
  publish(changes: readonly CountChange[]): Promise<void>;
}

export function encodeCountChanged(c: CountChange): Buffer {
  return Buffer.from(countV1.CountChanged.encode({ userId: c.userId, name: c.name, value: c.value, version: c.version }).finish());
}

export class CountChangedPublisher implements CountChangeSink {
  constructor(
    private readonly producer: IdempotentProducer,
    private readonly topic: string,
  ) {}

  /** Resolves after the broker acknowledged every record (acks=all). */
  async publish(changes: readonly CountChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.producer.send(
      this.topic,
      changes.map((c) => ({ key: String(c.userId), value: encodeCountChanged(c) })),
    );
  }
}
