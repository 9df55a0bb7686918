import { Gauge } from "prom-client";
import type { Kafka } from "kafkajs";
import { metricsRegistry } from "@rs/runtime";

const LAG_METRIC = "kafka_consumer_lag";

/**
 * Messages of a partition the group has not committed yet: the high watermark
 * minus the committed offset. Set by a running batch consumer for the
 * partitions it owns and by {@link readConsumerLag}.
 */
export const consumerLagGauge: Gauge<"group" | "topic" | "partition"> =
  (metricsRegistry.getSingleMetric(LAG_METRIC) as Gauge<"group" | "topic" | "partition"> | undefined) ??
  new Gauge({
    name: LAG_METRIC,
    help: "Kafka consumer lag: high watermark minus committed offset, per group and partition",
    labelNames: ["group", "topic", "partition"] as const,
    registers: [metricsRegistry],
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
  consumerLagGauge.set({ group: groupId, topic, partition: String(partition) }, Math.max(0, lag));
}

/** Drops the gauge series of a partition this process no longer owns. */
export function clearConsumerLag(groupId: string, topic: string, partition: number): void {
  consumerLagGauge.remove({ group: groupId, topic, partition: String(partition) });
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
    const committedByTopic = await admin.fetchOffsets({ groupId, topics: [...topics] });
    const result: PartitionLag[] = [];
    for (const topic of topics) {
      const committed = new Map(
        (committedByTopic.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
      );
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const high = Number(p.high);
        const c = committed.get(p.partition);
        const committedOffset = c === undefined || c < 0 ? null : c;
        const lag = high - (committedOffset ?? Number(p.low));
        setConsumerLag(groupId, topic, p.partition, lag);
        result.push({ topic, partition: p.partition, highWatermark: high, committed: committedOffset, lag });
      }
    }
    return result.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}
