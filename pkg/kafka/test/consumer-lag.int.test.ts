/**
 * kafka_consumergroup_lag while a consumer runs: a member whose handler is
 * stuck finishes no batch, yet its lag is reported and grows with what is
 * produced; the poller gives up on a broker that does not answer instead of
 * hanging, and stops at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricsRegistry } from "@rs/runtime";
import { createIdempotentProducer, createKafka, runBatchConsumer, startLagPoller, type IdempotentProducer } from "../src/index.js";
import { freePort } from "../../../test/support/free-port.js";
import { registrySamples, sampleSum } from "../../../test/support/prometheus-text.js";
import { kafkaTestKit, logger, waitFor, type KafkaTestKit } from "./kafka-test-kit.js";

const LAG_INTERVAL_MS = 200;

const lagOf = async (group: string) => sampleSum(await registrySamples(metricsRegistry), "kafka_consumergroup_lag", { consumergroup: group });

describe("consumer lag gauge", () => {
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
      await producer.send(topic, Array.from({ length: 4 }, (_, i) => ({ key: "k", value: `more-${i}` })));
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

  it("gives up a poll a dead broker does not answer, and stops at once", async () => {
    const dead = createKafka({ brokers: [`127.0.0.1:${await freePort()}`], clientId: "rs-lag-dead", logger });
    const group = `dead-${Date.now()}`;
    const poller = startLagPoller({ kafka: dead, groupId: group, topics: ["nowhere"], owns: () => true, intervalMs: 50, timeoutMs: 200, logger });
    await new Promise((r) => setTimeout(r, 600));
    const t0 = Date.now();
    await poller.stop();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await lagOf(group)).toBe(0);
  });
});
