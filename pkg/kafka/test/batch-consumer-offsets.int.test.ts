import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createIdempotentProducer, readConsumerLag, runBatchConsumer, type ConsumedBatch, type IdempotentProducer } from "../src/index.js";
import { metricsRegistry } from "@rs/runtime";
import { registrySamples, sampleSum } from "../../../test/support/prometheus-text.js";
import { TEST_PARTITIONS, kafkaTestKit, logger, sleep, waitFor, type KafkaTestKit } from "./kafka-test-kit.js";

/** Short redelivery back-off so a failed batch comes back quickly. */
const REDELIVERY_MS = 50;
/** Kafka's default group.min.session.timeout.ms: the shortest session the broker accepts. */
const MIN_SESSION_TIMEOUT_MS = 6_000;
const HEARTBEAT_MS = 500;
/** How often the consumers of the lag test read their lag from the brokers. */
const LAG_INTERVAL_MS = 200;

const lagOf = async (group: string) => sampleSum(await registrySamples(metricsRegistry), "kafka_consumergroup_lag", { consumergroup: group });

const at = (partition: number, offset: string | number) => `${partition}@${offset}`;
const offsetsOf = (b: ConsumedBatch) => b.messages.map((m) => at(b.partition, m.offset));

async function produce(producer: IdempotentProducer, topic: string, n: number, tag: string): Promise<void> {
  await producer.send(
    topic,
    Array.from({ length: n }, (_, i) => ({ key: `${tag}-${i}`, value: `${tag}-${i}` })),
  );
}

/** All (partition, offset) pairs now in `topic`. */
async function allOffsets(kit: KafkaTestKit, topic: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const p of await kit.admin.fetchTopicOffsets(topic)) {
    for (let o = Number(p.low); o < Number(p.high); o++) out.add(at(p.partition, o));
  }
  return out;
}

describe("runBatchConsumer offset management", () => {
  let kit: KafkaTestKit;
  let producer: IdempotentProducer;

  beforeAll(async () => {
    kit = await kafkaTestKit();
    producer = await createIdempotentProducer(kit.kafka);
  });
  afterAll(async () => {
    await producer?.disconnect();
    await kit?.cleanup();
  });

  it("delivers a batch whose handler threw again, and loses nothing", async () => {
    const topic = await kit.topic("redeliver");
    await produce(producer, topic, 30, "r");
    const expected = await allOffsets(kit, topic);

    let failed: { partition: number; offsets: string[] } | undefined;
    const handled: string[] = [];
    const calls: { partition: number; offsets: string[] }[] = [];
    const consumer = await runBatchConsumer({
      kafka: kit.kafka,
      groupId: kit.group("redeliver"),
      topics: [topic],
      fromBeginning: true,
      redeliveryInitialMs: REDELIVERY_MS,
      logger,
      async handle(batch) {
        calls.push({ partition: batch.partition, offsets: offsetsOf(batch) });
        if (!failed) {
          failed = { partition: batch.partition, offsets: offsetsOf(batch) };
          throw new Error("handler failure (test)");
        }
        handled.push(...offsetsOf(batch));
      },
    });
    try {
      await waitFor("all records handled", () => handled.length >= expected.size);
      await sleep(300);
    } finally {
      await consumer.stop();
    }

    // The failed batch came back: a later call on that partition starts at the same offset.
    const again = calls.slice(1).find((c) => c.partition === failed!.partition);
    expect(again?.offsets[0]).toBe(failed!.offsets[0]);
    for (const o of failed!.offsets) expect(handled).toContain(o);
    // Every record handled successfully exactly once; none skipped.
    expect(handled).toHaveLength(expected.size);
    expect(new Set(handled)).toEqual(expected);
  });

  it("commits only after the handler resolves; stop() finishes the in-flight batch; the next member resumes there", async () => {
    const topic = await kit.topic("commit");
    const group = kit.group("commit");
    await produce(producer, topic, 20, "c1");

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let first: ConsumedBatch | undefined;
    const handledByA: string[] = [];
    const a = await runBatchConsumer({
      kafka: kit.kafka,
      groupId: group,
      topics: topic,
      fromBeginning: true,
      logger,
      async handle(batch) {
        if (!first) {
          first = batch;
          await gate;
        }
        handledByA.push(...offsetsOf(batch));
      },
    });
    // If an assertion fails below, still let A finish so the group can be deleted.
    onTestFinished(async () => {
      release();
      await a.stop();
    });
    await waitFor("the first batch", () => first !== undefined);
    const p = first!.partition;
    const lastOffset = Number(first!.messages.at(-1)!.offset);

    // Handler still running: nothing committed yet.
    expect((await kit.committed(group, topic)).get(p)).toBe(-1);

    // stop() waits for the in-flight batch instead of abandoning it.
    let stopped = false;
    const stopping = a.stop().then(() => (stopped = true));
    await sleep(300);
    expect(stopped).toBe(false);
    expect((await kit.committed(group, topic)).get(p)).toBe(-1);

    release();
    await stopping;
    // Only the finished batch was handled (stop() fetched nothing new) and exactly it was committed.
    expect(handledByA).toEqual(offsetsOf(first!));
    const committed = await kit.committed(group, topic);
    expect(committed.get(p)).toBe(lastOffset + 1);
    for (let q = 0; q < TEST_PARTITIONS; q++) if (q !== p) expect(committed.get(q)).toBe(-1);

    // The lag read from the brokers counts exactly what A did not commit.
    const lag = await readConsumerLag(kit.kafka, group, [topic]);
    expect(lag.find((l) => l.partition === p)).toMatchObject({ committed: lastOffset + 1 });
    expect(lag.reduce((s, l) => s + l.lag, 0)).toBe(20 - first!.messages.length);

    // A second member of the group starts after the committed point (fromBeginning
    // only applies where nothing was committed) and sees everything else once.
    await produce(producer, topic, 10, "c2");
    const expectedForB = await allOffsets(kit, topic);
    for (const o of handledByA) expectedForB.delete(o);
    const handledByB: string[] = [];
    const b = await runBatchConsumer({
      kafka: kit.kafka,
      groupId: group,
      topics: topic,
      fromBeginning: true,
      logger,
      async handle(batch) {
        handledByB.push(...offsetsOf(batch));
      },
    });
    try {
      await waitFor("B to catch up", () => handledByB.length >= expectedForB.size);
      await sleep(300);
    } finally {
      await b.stop();
    }
    expect(handledByB).toHaveLength(expectedForB.size);
    expect(new Set(handledByB)).toEqual(expectedForB);
    const minOnP = Math.min(...handledByB.filter((o) => o.startsWith(`${p}@`)).map((o) => Number(o.split("@")[1])));
    expect(minOnP === Infinity || minOnP === lastOffset + 1).toBe(true);
  });

  it("keeps the group membership through a batch longer than the session timeout", async () => {
    const topic = await kit.topic("heartbeat");
    const group = kit.group("heartbeat");
    await produce(producer, topic, 1, "h");
    const calls: string[][] = [];
    const consumer = await runBatchConsumer({
      kafka: kit.kafka,
      groupId: group,
      topics: topic,
      fromBeginning: true,
      sessionTimeoutMs: MIN_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: HEARTBEAT_MS,
      logger,
      async handle(batch) {
        calls.push(offsetsOf(batch));
        // Longer than the session: without heartbeats the member would be
        // evicted, its commit refused and the batch handled a second time.
        if (calls.length === 1) await sleep(MIN_SESSION_TIMEOUT_MS + 1_500);
      },
    });
    try {
      const deadline = Date.now() + MIN_SESSION_TIMEOUT_MS + 5_000;
      let committed = -1;
      while (committed < 1 && Date.now() < deadline) {
        await sleep(200);
        committed = Math.max(...(await kit.committed(group, topic)).values());
      }
      expect(committed).toBe(1);
      await sleep(300);
    } finally {
      await consumer.stop();
    }
    expect(calls).toHaveLength(1);
  });

  it("reports the lag of a stuck consumer's partitions, growing with what is produced", async () => {
    const topic = await kit.topic("lag-stuck");
    const group = kit.group("lag-stuck");
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    let batches = 0;
    const consumer = await runBatchConsumer({
      kafka: kit.kafka,
      groupId: group,
      topics: topic,
      fromBeginning: true,
      lagIntervalMs: LAG_INTERVAL_MS,
      logger,
      async handle() {
        batches++;
        await stuck;
      },
    });
    try {
      await producer.send(topic, [{ key: "k", value: "first" }]);
      await waitFor("the first batch", () => batches > 0);
      await producer.send(
        topic,
        Array.from({ length: 4 }, (_, i) => ({ key: "k", value: `more-${i}` })),
      );
      // Nothing was committed: the lag is all five records, though no batch finished.
      let lag = 0;
      const deadline = Date.now() + 10_000;
      while ((lag = await lagOf(group)) < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, LAG_INTERVAL_MS));
      expect(lag).toBe(5);
      const samples = await registrySamples(metricsRegistry);
      const series = samples.filter((s) => s.name === "kafka_consumergroup_lag" && s.labels.consumergroup === group);
      // One series per partition the member owns (all of them: it is alone in the group).
      expect(new Set(series.map((s) => `${s.labels.topic}/${s.labels.partition}`)).size).toBe(series.length);
      expect(series.every((s) => s.labels.topic === topic)).toBe(true);
      expect(series.length).toBeGreaterThan(1);
    } finally {
      release();
      await consumer.stop();
    }
    expect(await lagOf(group)).toBe(0); // series of partitions no longer owned are dropped
  });
});
