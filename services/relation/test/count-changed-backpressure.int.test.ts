/**
 * The persister's count.changed publish against the real broker: its changes
 * go out as CountChangedBatch records that the consumers' decoder reads back
 * whole (request ids and all), or, with batches off, one record per change.
 * Against a bounded producer queue a volume several times the queue (as a
 * large batch, several chunks and partitions at once produce) is published
 * completely, in slices that wait for room, instead of being refused, which
 * failed the batch and made every redelivery fail the same way. A send that
 * does not ask to wait (the relation service's request path) is still refused
 * at the bound.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COUNT_CHANGED_BATCH_SCHEMA, COUNT_CHANGED_SCHEMA_HEADER, decodeCountChangedMessage, MAX_CHANGES_PER_RECORD, type CountChangedRecord } from "@rs/idl";
import { createIdempotentProducer, ProducerBackpressureError, requestIdsOfHeaders, type IdempotentProducer, type KafkaMessage } from "@rs/kafka";
import { kafkaTestKit, waitFor, type KafkaTestKit } from "../../../pkg/kafka/test/kafka-test-kit.js";
import { CountChangedPublisher, type OriginCountChange } from "../src/persister/count-changed.publisher.js";
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

/** Every record of `topic` from the beginning, once `count` have arrived. */
async function readAll(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = kit.kafka.consumer({ groupId: kit.group("count-changed-read") });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message) });
    await waitFor(`${count} records`, () => got.length >= count);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe("count.changed records", () => {
  it("go out as batches of up to MAX_CHANGES_PER_RECORD changes that the consumers' decoder reads back whole", async () => {
    const topic = await kit.topic("count-changed-batches");
    const publisher = new CountChangedPublisher(producer, topic);
    const sent: OriginCountChange[] = changes(2 * MAX_CHANGES_PER_RECORD + 3, 500_000).map((c, i) => (i % 100 === 0 ? { ...c, requestIds: [`req-${i}`] } : c));
    await publisher.publish(sent);

    const records = await readAll(topic, 3);
    expect(records).toHaveLength(3);
    const read: CountChangedRecord[] = [];
    for (const r of records) {
      expect(r.headers?.[COUNT_CHANGED_SCHEMA_HEADER]?.toString()).toBe(COUNT_CHANGED_BATCH_SCHEMA);
      const d = decodeCountChangedMessage(r);
      expect(d.refused).toEqual([]);
      // each record names the requests of its own changes
      expect(requestIdsOfHeaders(r.headers).sort()).toEqual(
        d.changes
          .map((c) => sent.find((s) => s.userId === c.userId)!.requestIds?.[0])
          .filter(Boolean)
          .sort(),
      );
      read.push(...d.changes);
    }
    const strip = ({ userId, name, value, version }: CountChangedRecord) => ({ userId, name, value, version });
    expect(read.sort((a, b) => a.userId - b.userId)).toEqual(sent.map(strip));
    expect(records.map((r) => decodeCountChangedMessage(r).changes.length).sort((a, b) => a - b)).toEqual([3, MAX_CHANGES_PER_RECORD, MAX_CHANGES_PER_RECORD]);
  });

  it("go out one per change, keyed by its user, with batches off", async () => {
    const topic = await kit.topic("count-changed-singles");
    const sent = changes(20, 600_000);
    await new CountChangedPublisher(producer, topic, { batches: false }).publish(sent);
    const records = await readAll(topic, sent.length);
    expect(records).toHaveLength(sent.length);
    for (const r of records) {
      expect(r.headers?.[COUNT_CHANGED_SCHEMA_HEADER]).toBeUndefined();
      const [change] = decodeCountChangedMessage(r).changes;
      expect(r.key?.toString()).toBe(String(change!.userId));
    }
  });
});

describe("count.changed publishing over a bounded producer queue", () => {
  it("publishes several queues' worth from concurrent chunks, all of it", async () => {
    const topic = await kit.topic("count-changed-room");
    // one record per change, so that each chunk is larger than the whole queue (batches would be a few records)
    const publisher = new CountChangedPublisher(producer, topic, { waitForRoomMs: 20_000, batches: false });
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
