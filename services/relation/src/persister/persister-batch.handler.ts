/**
 * The Kafka side of the persister: turns one fetched partition batch into
 * chunks of at most `chunkEvents` transitions and persists them in order.
 *
 * A batch is bounded twice so it never outlives the group session: by bytes
 * (the consumer's maxBytesPerPartition) and by work per step (chunks). Between
 * chunks it heartbeats; if the group is rebalancing, the heartbeat rejects and
 * the batch fails at once (nothing is committed, the new owner of the
 * partition gets it again and finds the finished chunks already written).
 *
 * A batch that outlives the consumer's budget is abandoned (failed, delivered
 * again): its signal is aborted, and the handler then starts nothing more, no
 * chunk's shard transactions and no chunk's Redis steps or count.changed. What
 * was already under way ends as a whole (a shard transaction commits or rolls
 * back) and every step is idempotent by version (rows, pending clears, fans
 * steps, counts downstream), so the redelivery, which starts only after the
 * abandoned handler settled, finds at most whole finished steps.
 */
import { requestIdsOfHeaders, type BatchControl, type ConsumedBatch } from "@rs/kafka";
import type { Logger } from "@rs/logger";
import type { EdgeEvent } from "./edge-fold.js";
import type { PersisterMetrics } from "./persister.metrics.js";
import { decodeRelationEvent } from "../adapters/kafka/relation-event.codec.js";
import type { RelationPersister } from "./relation-persister.js";

/**
 * Chunks whose post-commit steps (Redis, count.changed) may still be running
 * while the next chunk is written: those steps wait mostly on Redis and on the
 * broker's acks, and concurrent publishes go out together in one request.
 */
const FINISHING = 3;

export interface PersisterBatchHandlerOptions {
  readonly persister: Pick<RelationPersister, "writeShards" | "finish">;
  readonly chunkEvents: number;
  readonly logger: Logger;
  readonly metrics?: PersisterMetrics;
  /** Called after each chunk is fully persisted (tests and benchmarks measure lag with it). */
  readonly onPersisted?: (events: readonly EdgeEvent[], kafkaTimestampsMs: readonly number[]) => void;
}

/**
 * The batch handler of the persister's consumer: decodes the batch (skipping,
 * with an error log and a metric, records that are not transitions) and
 * persists it chunk by chunk; resolves when everything is persisted, so the
 * consumer commits the batch's offsets only then.
 */
export function persisterBatchHandler(opts: PersisterBatchHandlerOptions): (batch: ConsumedBatch, ctl: BatchControl) => Promise<void> {
  if (!Number.isSafeInteger(opts.chunkEvents) || opts.chunkEvents < 1) throw new RangeError(`chunkEvents must be a positive integer, got ${opts.chunkEvents}`);
  return async (batch, ctl) => {
    const batchStarted = process.hrtime.bigint();
    opts.metrics?.batchSize.observe(batch.messages.length);
    const events: EdgeEvent[] = [];
    const stamps: number[] = [];
    for (const m of batch.messages) {
      const decoded = decodeRelationEvent(m.value);
      if (!decoded.ok) {
        opts.metrics?.events.inc({ outcome: "invalid" });
        opts.logger.error(
          { topic: batch.topic, partition: batch.partition, offset: m.offset, reason: decoded.reason },
          "skipping a record that is not a relation transition",
        );
        continue;
      }
      const requestIds = requestIdsOfHeaders(m.headers);
      events.push(requestIds.length > 0 ? { ...decoded.event, requestIds } : decoded.event);
      stamps.push(Number(m.timestamp));
    }
    // Later chunks' shard transactions run while earlier chunks' Redis steps
    // and publish finish (at most `FINISHING` such tails at once); the batch
    // resolves, and its offsets are committed, only when every stage of every
    // chunk is done.
    const finishing: Promise<void>[] = [];
    const abandoned = () => ctl.signal?.throwIfAborted();
    for (let i = 0; i < events.length; i += opts.chunkEvents) {
      if (i > 0) await ctl.heartbeat();
      abandoned();
      const chunk = events.slice(i, i + opts.chunkEvents);
      const chunkStamps = stamps.slice(i, i + opts.chunkEvents);
      const started = process.hrtime.bigint();
      const written = await opts.persister.writeShards(chunk);
      if (finishing.length >= FINISHING) await finishing.shift();
      abandoned();
      const tail = opts.persister.finish(chunk, written).then(() => {
        const now = Date.now();
        if (opts.metrics) {
          opts.metrics.persistSeconds.observe({ stage: "total" }, Number(process.hrtime.bigint() - started) / 1e9);
          opts.metrics.events.inc({ outcome: "persisted" }, chunk.length);
          for (const ts of chunkStamps) if (Number.isFinite(ts)) opts.metrics.eventLagSeconds.observe(Math.max(0, now - ts) / 1000);
        }
        opts.onPersisted?.(chunk, chunkStamps);
      });
      // a failure surfaces when the tail is awaited, never as an unhandled rejection
      tail.catch(() => undefined);
      finishing.push(tail);
    }
    await Promise.all(finishing);
    opts.metrics?.batchSeconds.observe(Number(process.hrtime.bigint() - batchStarted) / 1e9);
  };
}
