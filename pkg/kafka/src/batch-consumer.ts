import { context } from "@opentelemetry/api";
import type { EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "@rs/logger";
import { clearConsumerLag, readConsumerLag, setConsumerLag, startLagPoller, type PartitionLag } from "./consumer-lag.js";
import { handleInRequestContext } from "./request-headers.js";
import { startBatchSpans } from "./batch-tracing.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

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
/**
 * Longest one batch may be handled. Past it the batch counts as failed: the
 * handler is abandoned (its signal aborted), nothing is committed, and the
 * records are delivered again once the abandoned handler has settled.
 */
export const DEFAULT_BATCH_TIMEOUT_MS = 60_000;
/** Batches of one partition failing in a row (errors or timeouts) after which the readiness check fails. */
export const DEFAULT_UNREADY_AFTER_FAILURES = 3;

/** Thrown (as the batch's failure) when a handler outlived its budget. */
export class BatchTimeoutError extends Error {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly timeoutMs: number,
  ) {
    super(`batch of ${topic}[${partition}] not handled within ${timeoutMs}ms; abandoned, it will be delivered again`);
    this.name = "BatchTimeoutError";
  }
}
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
  /**
   * Aborted when the batch outlived its budget and was abandoned: the batch
   * is failed and will be delivered again, so the handler must stop at its
   * next step and apply nothing more (anything it still writes must be as
   * idempotent as a redelivery).
   */
  readonly signal?: AbortSignal;
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
  /** Budget of one batch (default {@link DEFAULT_BATCH_TIMEOUT_MS}). */
  readonly batchTimeoutMs?: number;
  /** Failed batches in a row, on one partition, that make {@link BatchConsumer.readiness} fail (default {@link DEFAULT_UNREADY_AFTER_FAILURES}). */
  readonly unreadyAfterFailures?: number;
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
  /**
   * A `/readyz` check: fails while some owned partition's batches have failed
   * (thrown or outlived their budget) `unreadyAfterFailures` times in a row;
   * a batch of that partition handled successfully makes it pass again.
   */
  readonly readiness: { readonly name: string; check(): Promise<void> };
}

/** A partition whose batches keep failing. */
interface FailingPartition {
  failures: number;
  since: number;
  lastError: string;
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
 * during a long batch, so a slow handler does not cost the group membership,
 * but only within the batch's budget: a handler that outlives it is abandoned
 * (its signal aborted, heartbeats for it stop), the batch fails and is
 * delivered again. A partition is never handled by two handlers at once: the
 * redelivery waits (at most another budget, else it fails again) until the
 * abandoned handler has settled, so a stale handler cannot interleave with a
 * newer one, and it can never commit (only a handler that finished within its
 * budget leads to a commit).
 *
 * Resolves once the member has joined the group.
 */
export async function runBatchConsumer(opts: BatchConsumerOptions): Promise<BatchConsumer> {
  const topics = typeof opts.topics === "string" ? [opts.topics] : [...opts.topics];
  const { groupId } = opts;
  const log = opts.logger.child({ component: "kafka-consumer", groupId });
  const handle = handleInRequestContext(opts.handle, log);
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const batchTimeoutMs = opts.batchTimeoutMs ?? DEFAULT_BATCH_TIMEOUT_MS;
  const unreadyAfter = opts.unreadyAfterFailures ?? DEFAULT_UNREADY_AFTER_FAILURES;
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
  /** Handlers abandoned after their budget that have not settled yet, per partition. */
  const abandoned = new Map<string, Promise<unknown>>();
  const failing = new Map<string, FailingPartition>();
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const now = new Set(Object.entries(payload.memberAssignment).flatMap(([t, ps]) => ps.map((p) => `${t}\u0000${p}`)));
    for (const key of owned) {
      if (now.has(key)) continue;
      const [t, p] = key.split("\u0000");
      clearConsumerLag(groupId, t!, Number(p));
      owned.delete(key);
      failing.delete(key);
    }
    for (const key of now) owned.add(key);
  });

  /** Runs the handler within the batch's budget; on timeout aborts it and rejects with {@link BatchTimeoutError}. */
  const handleWithinBudget = async (key: string, batch: ConsumedBatch, payload: EachBatchPayload): Promise<void> => {
    const { topic, partition } = batch;
    const previous = abandoned.get(key);
    if (previous) {
      // the stale handler of this partition must settle first; waiting counts against this batch's budget
      const settled = await Promise.race([previous.then(() => true), sleep(batchTimeoutMs).then(() => false)]);
      if (!settled) throw new BatchTimeoutError(topic, partition, batchTimeoutMs);
    }
    const abort = new AbortController();
    const running = handle(batch, { heartbeat: payload.heartbeat, isStopping: () => stopping, signal: abort.signal });
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), batchTimeoutMs);
    });
    try {
      if ((await Promise.race([running, budget])) !== "timeout") return;
    } finally {
      clearTimeout(timer);
    }
    abort.abort(new BatchTimeoutError(topic, partition, batchTimeoutMs));
    const settled = running.then(
      () => log.warn({ topic, partition }, "an abandoned batch handler finished after its budget (nothing committed)"),
      () => undefined,
    );
    abandoned.set(key, settled);
    void settled.finally(() => {
      if (abandoned.get(key) === settled) abandoned.delete(key);
    });
    throw new BatchTimeoutError(topic, partition, batchTimeoutMs);
  };

  const recordFailure = (key: string, err: unknown) => {
    const f = failing.get(key) ?? { failures: 0, since: Date.now(), lastError: "" };
    f.failures += 1;
    f.lastError = err instanceof Error ? err.message : String(err);
    failing.set(key, f);
  };

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { topic, partition, messages, highWatermark } = payload.batch;
    const last = messages.at(-1);
    if (!last) return;
    const first = messages[0]!;
    const high = Number(highWatermark);
    const key = `${topic}\u0000${partition}`;
    const spans = startBatchSpans(topic, partition, groupId, messages);
    const beat = setInterval(() => {
      payload.heartbeat().catch((err: unknown) => log.debug({ err, topic, partition }, "background heartbeat failed"));
    }, heartbeatIntervalMs);
    try {
      await context.with(spans.ctx, () => handleWithinBudget(key, { topic, partition, messages, highWatermark }, payload));
    } catch (err) {
      spans.end(err);
      recordFailure(key, err);
      setConsumerLag(groupId, topic, partition, high - Number(first.offset));
      log.warn(
        { err, topic, partition, firstOffset: first.offset, lastOffset: last.offset, count: messages.length, failuresInARow: failing.get(key)?.failures },
        "batch handler failed; the batch will be delivered again",
      );
      throw err;
    } finally {
      clearInterval(beat);
    }
    spans.end();
    failing.delete(key);
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
        failing.clear();
        log.info("batch consumer stopped");
      })();
      return stopped;
    },
    readLag: () => readConsumerLag(opts.kafka, groupId, topics),
    readiness: {
      name: `kafka-consumer ${groupId}`,
      check() {
        const stuck = [...failing].filter(([, f]) => f.failures >= unreadyAfter);
        if (stuck.length === 0) return Promise.resolve();
        const what = stuck.map(
          ([k, f]) => `${k.replace("\u0000", "[")}] failed ${f.failures} batches in a row since ${new Date(f.since).toISOString()}: ${f.lastError}`,
        );
        return Promise.reject(new Error(what.join("; ")));
      },
    },
  };
}
