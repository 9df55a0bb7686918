/**
 * The lag poller gives up on a broker that does not answer instead of
 * hanging, and stops at once. (That a running consumer reports the lag of its
 * partitions while stuck is in batch-consumer-offsets.int.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { metricsRegistry } from "@rs/runtime";
import { createKafka, startLagPoller } from "../src/index.js";
import { freePort } from "../../../test/support/free-port.js";
import { registrySamples, sampleSum } from "../../../test/support/prometheus-text.js";
import { logger } from "./kafka-test-kit.js";

describe("consumer lag poller", () => {
  it("gives up a poll a dead broker does not answer, and stops at once", async () => {
    const dead = createKafka({ brokers: [`127.0.0.1:${await freePort()}`], clientId: "rs-lag-dead", logger });
    const group = `dead-${Date.now()}`;
    const poller = startLagPoller({ kafka: dead, groupId: group, topics: ["nowhere"], owns: () => true, intervalMs: 50, timeoutMs: 200, logger });
    await new Promise((r) => setTimeout(r, 600));
    const t0 = Date.now();
    await poller.stop();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(sampleSum(await registrySamples(metricsRegistry), "kafka_consumergroup_lag", { consumergroup: group })).toBe(0);
  });
});
