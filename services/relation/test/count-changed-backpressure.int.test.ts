/**
 * The persister's count.changed publish against a bounded producer queue: a
 * volume several times the queue (as a large batch, several chunks and
 * partitions at once produce) is published completely, in slices that wait
 * for room, instead of being refused, which failed the batch and made every
 * redelivery fail the same way. A send that does not ask to wait (the
 * relation service's request path) is still refused at the bound.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdempotentProducer, ProducerBackpressureError, type IdempotentProducer } from "@rs/kafka";
import { kafkaTestKit, waitFor, type KafkaTestKit } from "../../../pkg/kafka/test/kafka-test-kit.js";
import { CountChangedPublisher } from "../src/persister/count-changed.publisher.js";
import type { CountChange } from "../src/persister/count-arithmetic.js";

const MAX_QUEUED = 200;

let kit: KafkaTestKit;
let producer: IdempotentProducer;

beforeAll(async () => {
  kit = await kafkaTestKit();
  producer = await createIdempotentProducer(kit.kafka, { maxQueuedMessages: MAX_QUEUED });
});

afterAll(async () => {
  await producer?.disconnect();
  await kit?.cleanup();
});

const changes = (n: number, base: number): CountChange[] =>
  Array.from({ length: n }, (_, i) => ({ userId: base + i, name: i % 2 === 0 ? "following" : "follower", value: i, version: 1_000 + i }) as CountChange);

describe("count.changed publishing over a bounded producer queue", () => {
  it("publishes several queues' worth from concurrent chunks, all of it", async () => {
    const topic = await kit.topic("count-changed-room");
    const publisher = new CountChangedPublisher(producer, topic, 20_000);
    // four chunks at once, each larger than the whole queue
    const chunks = [0, 1, 2, 3].map((c) => changes(3 * MAX_QUEUED, 1 + c * 10_000));
    await Promise.all(chunks.map((c) => publisher.publish(c)));

    const offsets = await kit.admin.fetchTopicOffsets(topic);
    const total = offsets.reduce((a, p) => a + Number(p.high) - Number(p.low), 0);
    expect(total).toBe(4 * 3 * MAX_QUEUED);
  });

  it("still refuses a send that does not wait once the queue is full", async () => {
    const topic = await kit.topic("count-changed-refuse");
    const big = Array.from({ length: MAX_QUEUED }, (_, i) => ({ key: String(i), value: "x" }));
    const first = producer.send(topic, big);
    await expect(producer.send(topic, [{ key: "k", value: "y" }])).rejects.toBeInstanceOf(ProducerBackpressureError);
    await first;
    // once acknowledged, there is room again
    let sent = false;
    await producer.send(topic, [{ key: "k", value: "z" }]).then(() => (sent = true));
    await waitFor("the send after the queue drained", () => sent);
  });
});
