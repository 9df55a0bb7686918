/**
 * Publishes count.changed: each user's count as an absolute value with its
 * version. Consumers keep a value only when its version is newer than theirs,
 * so publishing the same value twice, or an older one after a newer one, is
 * harmless: the order of a user's changes across records does not matter.
 *
 * By default the changes of one publish go out as `count.v1.CountChangedBatch`
 * records of up to `MAX_CHANGES_PER_RECORD` changes (marked by their
 * `rs-schema` header, keyed by their first change's user id, naming the
 * requests of all their changes): a record costs KafkaJS, the broker and each
 * consumer about as much as the changes in it, so one record per change was
 * most of the publish's cost. `batches: false` publishes one
 * `count.v1.CountChanged` per change, keyed by its user id (what consumers
 * from before the batch form read: the setting for a rolling upgrade).
 *
 * The producer's queue is bounded. A persister batch can hold more changes
 * than fit (a chunk of 1 000 transitions moves up to 2 000 counts, and several
 * chunks and partitions publish at once): refused, the batch would fail and
 * be redelivered with the same volume, forever. So changes go out in slices
 * that each fit the queue, and a slice waits for room (acknowledgements of
 * earlier ones) up to `waitForRoomMs` instead of being refused; only a queue
 * that stays full that long (Kafka is not acknowledging) fails the batch.
 */
import { countChangedBatchHeaders, encodeCountChanged, encodeCountChangedBatch, MAX_CHANGES_PER_RECORD } from "@rs/idl";
import { MAX_BATCH_REQUEST_IDS, requestIdHeaders, type IdempotentProducer, type ProducerMessage } from "@rs/kafka";
import { distinctRequestIds } from "@rs/logger";
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

export interface CountChangedPublisherOptions {
  /** How long a slice may wait for room in the producer's queue (default {@link DEFAULT_PUBLISH_ROOM_WAIT_MS}). */
  readonly waitForRoomMs?: number;
  /** `count.v1.CountChangedBatch` records (default) or one `count.v1.CountChanged` per change. */
  readonly batches?: boolean;
}

/** One record of a publish: its changes' values as one batch, marked as such. */
function batchRecord(changes: readonly OriginCountChange[]): ProducerMessage {
  const requestIds = distinctRequestIds(
    changes.flatMap((c) => c.requestIds ?? []),
    MAX_BATCH_REQUEST_IDS,
  );
  return {
    key: String(changes[0]!.userId),
    value: encodeCountChangedBatch(changes),
    headers: { ...requestIdHeaders(requestIds), ...countChangedBatchHeaders() },
  };
}

export class CountChangedPublisher implements CountChangeSink {
  private readonly sliceRecords: number;
  private readonly waitForRoomMs: number;
  private readonly batches: boolean;

  constructor(
    private readonly producer: IdempotentProducer,
    private readonly topic: string,
    options: CountChangedPublisherOptions = {},
  ) {
    this.sliceRecords = Math.max(1, Math.min(SLICE_RECORDS, Math.floor(producer.maxQueuedMessages / 4)));
    this.waitForRoomMs = options.waitForRoomMs ?? DEFAULT_PUBLISH_ROOM_WAIT_MS;
    this.batches = options.batches ?? true;
  }

  /** Resolves after the broker acknowledged every record (acks=all). */
  async publish(changes: readonly OriginCountChange[]): Promise<void> {
    if (changes.length === 0) return;
    const records: ProducerMessage[] = [];
    if (this.batches) {
      for (let i = 0; i < changes.length; i += MAX_CHANGES_PER_RECORD) records.push(batchRecord(changes.slice(i, i + MAX_CHANGES_PER_RECORD)));
    } else {
      for (const c of changes) records.push({ key: String(c.userId), value: encodeCountChanged(c), headers: requestIdHeaders(c.requestIds ?? []) });
    }
    // all slices are handed over at once (in order); each waits for room on its own
    const sends: Promise<void>[] = [];
    for (let i = 0; i < records.length; i += this.sliceRecords) {
      sends.push(this.producer.send(this.topic, records.slice(i, i + this.sliceRecords), { waitForRoomMs: this.waitForRoomMs }));
    }
    await Promise.all(sends);
  }
}
