/**
 * Publishes `count.v1.CountChanged` records: a user's count as an absolute
 * value with its version, keyed by the user id so the changes of one user stay
 * ordered on one partition. Consumers keep a value only when its version is
 * newer than theirs, so publishing the same value twice is harmless.
 */
import { countV1 } from "@rs/idl";
import { requestIdHeaders, type IdempotentProducer } from "@rs/kafka";
import type { EdgeEvent } from "./edge-fold.js";
import { FANS_SIDE, FOLLOWS_SIDE, type CountChange } from "./edge-side.repository.js";

/** A count change and the requests whose transitions moved (or re-published) it. */
export interface OriginCountChange extends CountChange {
  readonly requestIds?: readonly string[];
}

export interface CountChangeSink {
  publish(changes: readonly OriginCountChange[]): Promise<void>;
}

/**
 * Gives each change the request ids of the transitions of `events` that count
 * for it (the follower's `following`, the followee's `follower`), so a
 * count.changed record names the requests it originates from.
 */
export function withOrigins(changes: readonly CountChange[], events: readonly EdgeEvent[]): readonly OriginCountChange[] {
  const byCount = new Map<string, string[]>();
  for (const e of events) {
    if (!e.requestIds) continue;
    for (const side of [FOLLOWS_SIDE, FANS_SIDE]) {
      const key = `${side.countName}:${side.owner(e)}`;
      byCount.set(key, [...(byCount.get(key) ?? []), ...e.requestIds]);
    }
  }
  if (byCount.size === 0) return changes;
  return changes.map((c) => {
    const requestIds = byCount.get(`${c.name}:${c.userId}`);
    return requestIds ? { ...c, requestIds } : c;
  });
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
  async publish(changes: readonly OriginCountChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.producer.send(
      this.topic,
      changes.map((c) => ({ key: String(c.userId), value: encodeCountChanged(c), headers: requestIdHeaders(c.requestIds ?? []) })),
    );
  }
}
