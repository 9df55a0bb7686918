import type { Gauge } from "prom-client";
import type { Admin, Kafka } from "kafkajs";
import type { Logger } from "@rs/logger";
import { gaugeMetric } from "@rs/runtime";

/** kafka_exporter's name and labels, so stock lag dashboards and alerts apply. */
const LAG_METRIC = "kafka_consumergroup_lag";

/** How often a running consumer asks the brokers for its partitions' lag. */
export const DEFAULT_LAG_INTERVAL_MS = 5_000;
/** Longest one lag poll may take before it is given up (a dead broker must not stall it). */
export const DEFAULT_LAG_TIMEOUT_MS = 4_000;

/**
 * Messages of a partition the group has not committed yet: the high watermark
 * minus the committed offset. Set by a running batch consumer for the
 * partitions it owns (after each batch and by its lag poller) and by
 * {@link readConsumerLag}.
 */
export const consumerLagGauge: Gauge<"consumergroup" | "topic" | "partition"> = gaugeMetric({
  name: LAG_METRIC,
  help: "Kafka consumer group lag: high watermark minus committed offset, per group, topic and partition",
  labelNames: ["consumergroup", "topic", "partition"],
});

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Offset the next produced record will get. */
  readonly highWatermark: number;
  /** Next offset the group will consume; `null` if the group never committed here. */
  readonly committed: number | null;
  /** `highWatermark − committed`, or the records retained if nothing was committed. */
  readonly lag: number;
}

/** Sets the gauge for one partition. */
export function setConsumerLag(groupId: string, topic: string, partition: number, lag: number): void {
  consumerLagGauge.set({ consumergroup: groupId, topic, partition: String(partition) }, Math.max(0, lag));
}

/** Drops the gauge series of a partition this process no longer owns. */
export function clearConsumerLag(groupId: string, topic: string, partition: number): void {
  consumerLagGauge.remove({ consumergroup: groupId, topic, partition: String(partition) });
}

/** The lag of `groupId` on every partition of `topics`, from the brokers, through a connected admin client. */
async function partitionLags(admin: Admin, groupId: string, topics: readonly string[]): Promise<PartitionLag[]> {
  const committedByTopic = await admin.fetchOffsets({ groupId, topics: [...topics] });
  const result: PartitionLag[] = [];
  for (const topic of topics) {
    const committed = new Map((committedByTopic.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const high = Number(p.high);
      const c = committed.get(p.partition);
      const committedOffset = c === undefined || c < 0 ? null : c;
      const lag = high - (committedOffset ?? Number(p.low));
      result.push({ topic, partition: p.partition, highWatermark: high, committed: committedOffset, lag });
    }
  }
  return result.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/**
 * Asks the brokers for the lag of `groupId` on `topics` (every partition,
 * whoever owns it), updates the gauge and returns the figures. Works for a
 * group with no running member too, which is where lag matters most.
 */
export async function readConsumerLag(kafka: Kafka, groupId: string, topics: readonly string[]): Promise<PartitionLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const lags = await partitionLags(admin, groupId, topics);
    for (const l of lags) setConsumerLag(groupId, l.topic, l.partition, l.lag);
    return lags;
  } finally {
    await admin.disconnect();
  }
}

export interface LagPollerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Whether this member reports `topic`/`partition` (it owns it), so members of one group never report the same series. */
  owns(topic: string, partition: number): boolean;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly logger: Logger;
}

export interface LagPoller {
  /** Stops polling and closes the admin connection; a poll in progress is abandoned. */
  stop(): Promise<void>;
}

/**
 * Refreshes the lag gauge of the partitions a member owns every `intervalMs`,
 * whether batches arrive or not, so an idle or stuck consumer still reports
 * (a stuck one with a growing lag). One admin connection is kept between
 * polls; a poll that fails or outlives `timeoutMs` is abandoned (its late
 * answer is ignored), the connection is dropped and the next poll starts
 * afresh. Polls never overlap.
 */
export function startLagPoller(opts: LagPollerOptions): LagPoller {
  const intervalMs = opts.intervalMs ?? DEFAULT_LAG_INTERVAL_MS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LAG_TIMEOUT_MS;
  let admin: Admin | undefined;
  let timer: NodeJS.Timeout | undefined;
  let generation = 0;
  let stopped = false;

  const drop = () => {
    const a = admin;
    admin = undefined;
    return a ? a.disconnect().catch(() => undefined) : Promise.resolve();
  };

  const poll = async (gen: number) => {
    admin ??= opts.kafka.admin();
    await admin.connect();
    const lags = await partitionLags(admin, opts.groupId, opts.topics);
    if (gen !== generation) return; // abandoned: a newer poll (or stop) came after it
    for (const l of lags) if (opts.owns(l.topic, l.partition)) setConsumerLag(opts.groupId, l.topic, l.partition, l.lag);
  };

  const tick = () => {
    const gen = ++generation;
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timeout = setTimeout(() => reject(new Error(`no lag answer within ${timeoutMs} ms`)), timeoutMs);
    });
    Promise.race([poll(gen), expired])
      .catch(async (err: unknown) => {
        generation++;
        opts.logger.debug({ err, groupId: opts.groupId }, "consumer lag poll failed; retrying at the next interval");
        await drop();
      })
      .finally(() => {
        clearTimeout(timeout);
        if (!stopped) schedule();
      });
  };

  const schedule = () => {
    timer = setTimeout(tick, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      generation++;
      clearTimeout(timer);
      await drop();
    },
  };
}
