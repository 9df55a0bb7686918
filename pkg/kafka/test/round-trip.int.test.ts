import { ROOT_CONTEXT, context, propagation, trace, TraceFlags } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricsRegistry } from "@rs/runtime";
import { createIdempotentProducer, extractTraceContext, runBatchConsumer, type IdempotentProducer } from "../src/index.js";
import { partitionForKey } from "../src/murmur2-partitioner.js";
import { TEST_PARTITIONS, kafkaTestKit, logger, sleep, waitFor, type KafkaTestKit } from "./kafka-test-kit.js";

const KEYS = 40;
const PER_KEY = 5;
/** How long to keep consuming after the last expected record, to catch duplicates. */
const SETTLE_MS = 500;

interface Received {
  key: string;
  seq: number;
  partition: number;
  offset: number;
  traceId: string | undefined;
}

describe("idempotent producer → batch consumer round trip", () => {
  let kit: KafkaTestKit;
  let producer: IdempotentProducer;
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(async () => {
    // What the telemetry SDK sets up in a service: async context + W3C headers.
    context.setGlobalContextManager(contextManager.enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    kit = await kafkaTestKit();
    producer = await createIdempotentProducer(kit.kafka);
  });
  afterAll(async () => {
    await producer?.disconnect();
    await kit?.cleanup();
    propagation.disable();
    context.disable();
  });

  it("lands keyed records on partitionForKey(key), keeps per-key order, delivers each once, carries the trace", async () => {
    const topic = await kit.topic("roundtrip");
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: "b7ad6b7169203331", traceFlags: TraceFlags.SAMPLED });

    // All sends are issued at once (no await in between) so the producer
    // coalesces them; per-key order must still be the order of the calls.
    const keys = Array.from({ length: KEYS }, (_, i) => `user-${i * 7919}`);
    const sends: Promise<void>[] = [];
    await context.with(parent, async () => {
      for (let seq = 0; seq < PER_KEY; seq++) {
        for (const key of keys) sends.push(producer.send(topic, [{ key, value: JSON.stringify({ key, seq }) }]));
      }
      await Promise.all(sends);
    });
    // One call with several records of one key keeps their order too.
    const multiKey = "user-multi";
    await producer.send(
      topic,
      [0, 1, 2].map((seq) => ({ key: multiKey, value: Buffer.from(JSON.stringify({ key: multiKey, seq })) })),
    );
    const expected = KEYS * PER_KEY + 3;

    const received: Received[] = [];
    const group = kit.group("roundtrip");
    const consumer = await runBatchConsumer({
      kafka: kit.kafka,
      groupId: group,
      topics: topic,
      fromBeginning: true,
      logger,
      async handle(batch) {
        for (const m of batch.messages) {
          const body = JSON.parse(m.value!.toString()) as { key: string; seq: number };
          expect(m.key?.toString()).toBe(body.key);
          received.push({
            ...body,
            partition: batch.partition,
            offset: Number(m.offset),
            traceId: trace.getSpanContext(extractTraceContext(m.headers))?.traceId,
          });
        }
      },
    });
    try {
      await waitFor(`${expected} records`, () => received.length >= expected);
      const gauge = await metricsRegistry.getSingleMetric("kafka_consumergroup_lag")!.get();
      const ours = gauge.values.filter((v) => v.labels.consumergroup === group);
      expect(ours.length).toBeGreaterThan(0);
      expect(ours.every((v) => v.value === 0)).toBe(true);
      await sleep(SETTLE_MS);
    } finally {
      await consumer.stop();
    }

    expect(received).toHaveLength(expected);
    const ids = new Set(received.map((r) => `${r.key}#${r.seq}`));
    expect(ids.size).toBe(expected);

    const partitionsUsed = new Set<number>();
    for (const r of received) {
      expect(r.partition, `partition of ${r.key}`).toBe(partitionForKey(r.key, TEST_PARTITIONS));
      partitionsUsed.add(r.partition);
    }
    expect(partitionsUsed.size).toBeGreaterThan(1);

    const byKey = new Map<string, Received[]>();
    for (const r of received) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    for (const [key, rs] of byKey) {
      const inOffsetOrder = [...rs].sort((a, b) => a.offset - b.offset).map((r) => r.seq);
      const n = key === multiKey ? 3 : PER_KEY;
      expect(inOffsetOrder, `order of ${key}`).toEqual(Array.from({ length: n }, (_, i) => i));
    }

    // The producer put the caller's trace into the headers.
    expect(received.filter((r) => r.key !== multiKey).every((r) => r.traceId === traceId)).toBe(true);
    // Committed everything: nothing left for the group.
    const lag = await consumer.readLag();
    expect(lag).toHaveLength(TEST_PARTITIONS);
    expect(lag.reduce((s, p) => s + p.lag, 0)).toBe(0);
  });

  it("handles a batch published under one span inside that trace, a batch of several producers in a trace of its own", async () => {
    const topic = await kit.topic("trace-parent");
    const spanOf = (traceId: string, spanId: string) => trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED });
    const one = spanOf("1af7651916cd43dd8448eb211c80319c", "c7ad6b7169203331");
    const other = spanOf("2af7651916cd43dd8448eb211c80319c", "d7ad6b7169203331");
    // Same key, so each group of records is one partition's batch.
    await context.with(one, () =>
      producer.send(topic, [
        { key: "single", value: "a" },
        { key: "single", value: "b" },
      ]),
    );
    await context.with(one, () => producer.send(topic, [{ key: "mixed", value: "a" }]));
    await context.with(other, () => producer.send(topic, [{ key: "mixed", value: "b" }]));

    // Without a tracer provider the CONSUMER span is non-recording and carries its parent's context, if any.
    const seen = new Map<string, { count: number; traceId: string | undefined }>();
    const consumer = await runBatchConsumer({
      kafka: kit.kafka,
      groupId: kit.group("trace-parent"),
      topics: topic,
      fromBeginning: true,
      logger,
      async handle(batch) {
        const key = batch.messages[0]!.key!.toString();
        const sc = trace.getSpanContext(context.active());
        seen.set(key, { count: batch.messages.length, traceId: sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined });
      },
    });
    try {
      await waitFor("both batches", () => seen.size === 2);
    } finally {
      await consumer.stop();
    }
    expect(seen.get("single")).toEqual({ count: 2, traceId: "1af7651916cd43dd8448eb211c80319c" });
    // Both records arrived before the group joined, so they form one batch with two producers.
    expect(seen.get("mixed")).toEqual({ count: 2, traceId: undefined });
  });

  it("rejects a send the broker does not acknowledge, and sends again afterwards", async () => {
    await expect(producer.send(`test.no-such-topic.${Date.now()}`, [{ key: "k", value: "v" }])).rejects.toThrow();
    // After a failure the producer starts over (new producer id) and keeps working.
    const topic = await kit.topic("after-failure");
    await producer.send(topic, [{ key: "k", value: "v" }]);
    const offsets = await kit.admin.fetchTopicOffsets(topic);
    expect(offsets.find((o) => o.partition === partitionForKey("k", TEST_PARTITIONS))?.high).toBe("1");
  });
});
