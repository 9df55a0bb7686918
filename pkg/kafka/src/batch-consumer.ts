import { context } from "@opentelemetry/api";
import type { EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "@rs/logger";
import { clearConsumerLag, readConsumerLag, setConsumerLag, startLagPoller, type PartitionLag } from "./consumer-lag.js";
import { handleInRequestContext } from "./request-headers.js";
import { startBatchSpans } from "./batch-tracing.js";

/** A member that sends no heartbeat for this long is dropped from the group. */
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
/** How often heartbeats go out, including during a long-running batch. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 3_000;
/** Most bytes fetched per partition per request, which bounds a batch. */
export const DEFAULT_MAX_BYTES_PER_PARTITION = 1024 * 1024;
/**
 * Longest a fetch waits on idle partitions. Bounds how long `stop()` waits for
 * an idle fetch; it adds no latency when records are there.
 */
export const DEFAULT_MAX_WAIT_TIME_MS = 1_000;
/** Back-off before a failed batch is fetched again (doubles up to the max). */
export const DEFAULT_REDELIVERY_INITIAL_MS = 100;
export const DEFAULT_REDELIVERY_MAX_MS = 5_000;
/** One partition's records, in offset order. */
export interface ConsumedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  /** Offset after the partition's last record when this batch was fetched. */
  readonly highWatermark: string;
}

export interface BatchControl {
  /**
   * Sends a heartbeat now (rate-limited to the heartbeat interval). Heartbeats
   * also go out in the background while `handle` runs; calling this lets a
   * handler learn early, by a rejection, that the group is rebalancing.
   */
  heartbeat(): Promise<void>;
  /** True once `stop()` was called: a long handler may finish early and throw. */
  isStopping(): boolean;
}

export interface BatchConsumerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: string | readonly string[];
  /** Where a group with no committed offset starts: the oldest record (true) or new ones only. */
  readonly fromBeginning?: boolean;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly maxBytesPerPartition?: number;
  readonly maxWaitTimeMs?: number;
  readonly redeliveryInitialMs?: number;
  readonly redeliveryMaxMs?: number;
  /** How often the lag of the owned partitions is read from the brokers, batches or not (default 5 s). */
  readonly lagIntervalMs?: number;
  /**
   * Batches of different partitions handled at the same time (default 1).
   * Offsets stay per partition: each batch commits only its own partition.
   */
  readonly partitionsConsumedConcurrently?: number;
  /**
   * Processes one batch. Its offsets are committed only after this resolves;
   * if it throws, nothing of the batch is committed and the same records are
   * delivered again (after a back-off). Delivery is at least once, so handlers
   * must be idempotent.
   */
  handle(batch: ConsumedBatch, ctl: BatchControl): Promise<void>;
  readonly logger: Logger;
}

export interface BatchConsumer {
  /**
   * Stops fetching, lets the batch in progress finish and commits it, leaves
   * the group and disconnects.
   */
  stop(): Promise<void>;
  /** Lag of this consumer's group on its topics, from the brokers (also updates the gauge). */
  readLag(): Promise<PartitionLag[]>;
}

/** The offsets resolved for one partition and not committed yet, as KafkaJS's commit payload. */
function partitionOffsets(payload: EachBatchPayload, topic: string, partition: number) {
  const topics = payload
    .uncommittedOffsets()
    .topics.filter((t) => t.topic === topic)
    .map((t) => ({ topic, partitions: t.partitions.filter((p) => Number(p.partition) === partition) }))
    .filter((t) => t.partitions.length > 0);
  return topics.length > 0 ? { topics } : undefined;
}

/**
 * Runs a consumer-group member that hands whole batches to `handle` and
 * manages offsets itself: auto-resolve and auto-commit are off; after `handle`
 * resolves, the batch's last offset is resolved and committed explicitly
 * before the next batch of that partition is fetched. A failing handler means
 * the batch is fetched and handled again (KafkaJS re-fetches from the last
 * resolved offset), never skipped. Heartbeats continue in the background
 * during a long batch, so a slow handler does not cost the group membership.
 *
 * Resolves once the member has joined the group.
 */
export async function runBatchConsumer(opts: BatchConsumerOptions): Promise<BatchConsumer> {
  const topics = typeof opts.topics === "string" ? [opts.topics] : [...opts.topics];
  const { groupId } = opts;
  const log = opts.logger.child({ component: "kafka-consumer", groupId });
  const handle = handleInRequestContext(opts.handle, log);
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const consumer = opts.kafka.consumer({
    groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
    heartbeatInterval: heartbeatIntervalMs,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION,
    maxWaitTimeInMs: opts.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_TIME_MS,
    allowAutoTopicCreation: false,
    // Also the back-off of redelivery after a failing handler; when the
    // retries run out KafkaJS restarts the member, which re-reads the
    // committed offsets, so redelivery goes on rather than skipping.
    retry: {
      initialRetryTime: opts.redeliveryInitialMs ?? DEFAULT_REDELIVERY_INITIAL_MS,
      maxRetryTime: opts.redeliveryMaxMs ?? DEFAULT_REDELIVERY_MAX_MS,
    },
  });

  let stopping = false;
  const owned = new Set<string>();
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const now = new Set(Object.entries(payload.memberAssignment).flatMap(([t, ps]) => ps.map((p) => `${t}\u0000${p}`)));
    for (const key of owned) {
      if (now.has(key)) continue;
      const [t, p] = key.split("\u0000");
      clearConsumerLag(groupId, t!, Number(p));
      owned.delete(key);
    }
    for (const key of now) owned.add(key);
  });

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { topic, partition, messages, highWatermark } = payload.batch;
    const last = messages.at(-1);
    if (!last) return;
    const first = messages[0]!;
    const high = Number(highWatermark);
    const spans = startBatchSpans(topic, partition, groupId, messages);
    const beat = setInterval(() => {
      payload.heartbeat().catch((err: unknown) => log.debug({ err, topic, partition }, "background heartbeat failed"));
    }, heartbeatIntervalMs);
    try {
      await context.with(spans.ctx, () =>
        handle({ topic, partition, messages, highWatermark }, { heartbeat: payload.heartbeat, isStopping: () => stopping }),
      );
    } catch (err) {
      spans.end(err);
      setConsumerLag(groupId, topic, partition, high - Number(first.offset));
      log.warn(
        { err, topic, partition, firstOffset: first.offset, lastOffset: last.offset, count: messages.length },
        "batch handler failed; the batch will be delivered again",
      );
      throw err;
    } finally {
      clearInterval(beat);
    }
    spans.end();
    payload.resolveOffset(last.offset);
    const offsets = partitionOffsets(payload, topic, partition);
    if (offsets) await payload.commitOffsetsIfNecessary(offsets);
    setConsumerLag(groupId, topic, partition, high - (Number(last.offset) + 1));
  };

  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: opts.fromBeginning ?? false });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1, eachBatch });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }
  log.info({ topics }, "batch consumer running");
  const lagPoller = startLagPoller({
    kafka: opts.kafka,
    groupId,
    topics,
    owns: (t, p) => owned.has(`${t}\u0000${p}`),
    intervalMs: opts.lagIntervalMs,
    logger: log,
  });

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopping = true;
      stopped ??= (async () => {
        // KafkaJS's disconnect stops the fetchers, waits for the batch being
        // handled (whose commit runs inside eachBatch), leaves the group and
        // closes the connections.
        await lagPoller.stop();
        await consumer.disconnect();
        for (const key of owned) {
          const [t, p] = key.split("\u0000");
          clearConsumerLag(groupId, t!, Number(p));
        }
        owned.clear();
        log.info("batch consumer stopped");
      })();
      return stopped;
    },
    readLag: () => readConsumerLag(opts.kafka, groupId, topics),
  };
}
