/**
 * Publishes `count.v1.CountChanged` records: a user's count as an absolute
 * value with its version, keyed by the user id so the changes of one user stay
 * ordered on one partition. Consumers keep a value only when its version is
 * newer than theirs, so publishing the same value twice is harmless.
 *
 * The producer's queue is bounded. A persister batch can hold more changes
 * than fit (a chunk of 1 000 transitions moves up to 2 000 counts, and several
 * chunks and partitions publish at once): refused, the batch would fail and
 * be redelivered with the same volume, forever. So changes go out in slices
 * that each fit the queue, and a slice waits for room (acknowledgements of
 * earlier ones) up to `waitForRoomMs` instead of being refused; only a queue
 * that stays full that long (Kafka is not acknowledging) fails the batch.
 */
import { encodeCountChanged } from "@rs/idl";
import { requestIdHeaders, type IdempotentProducer } from "@rs/kafka";
import type { EdgeEvent } from "./edge-fold.js";
import type { CountChange } from "./count-arithmetic.js";
import { FANS_SIDE, FOLLOWS_SIDE } from "./edge-side.js";

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
      const ids = byCount.get(key);
      if (ids) ids.push(...e.requestIds);
      else byCount.set(key, [...e.requestIds]);
    }
  }
  if (byCount.size === 0) return changes;
  return changes.map((c) => {
    const requestIds = byCount.get(`${c.name}:${c.userId}`);
    return requestIds ? { ...c, requestIds } : c;
  });
}

/** How long a slice may wait for room in the producer's queue before the publish fails. */
export const DEFAULT_PUBLISH_ROOM_WAIT_MS = 20_000;
/** Most records per slice (one produce request's worth, and a small share of the queue). */
const SLICE_RECORDS = 1_000;

export class CountChangedPublisher implements CountChangeSink {
  private readonly sliceRecords: number;

  constructor(
    private readonly producer: IdempotentProducer,
    private readonly topic: string,
    private readonly waitForRoomMs = DEFAULT_PUBLISH_ROOM_WAIT_MS,
  ) {
    this.sliceRecords = Math.max(1, Math.min(SLICE_RECORDS, Math.floor(producer.maxQueuedMessages / 4)));
  }

  /** Resolves after the broker acknowledged every record (acks=all). */
  async publish(changes: readonly OriginCountChange[]): Promise<void> {
    if (changes.length === 0) return;
    const records = changes.map((c) => ({ key: String(c.userId), value: encodeCountChanged(c), headers: requestIdHeaders(c.requestIds ?? []) }));
    // all slices are handed over at once (in order); each waits for room on its own
    const sends: Promise<void>[] = [];
    for (let i = 0; i < records.length; i += this.sliceRecords) {
      sends.push(this.producer.send(this.topic, records.slice(i, i + this.sliceRecords), { waitForRoomMs: this.waitForRoomMs }));
    }
    await Promise.all(sends);
  }
}
