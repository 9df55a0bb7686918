/**
 * A batch handler that hangs does not hold its partition forever: past the
 * batch budget it is abandoned (its signal aborted), nothing is committed,
 * the readiness check fails, and the batch is delivered again, never to a
 * second handler while the abandoned one still runs. Once a redelivery
 * succeeds the offsets are committed and the check passes again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdempotentProducer, runBatchConsumer, type ConsumedBatch, type IdempotentProducer } from "../src/index.js";
import { kafkaTestKit, logger, waitFor, type KafkaTestKit } from "./kafka-test-kit.js";

const BUDGET_MS = 800;
const SLACK_MS = 2_000;

describe("runBatchConsumer batch budget", () => {
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

  it("abandons a hung handler after its budget, redelivers after it settled, commits only the redelivery", async () => {
    const topic = await kit.topic("budget");
    const group = kit.group("budget");
    // one key: every record in one partition
    await producer.send(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ key: "k", value: `v${i}` })),
    );

    let release: () => void = () => undefined;
    const hung = new Promise<void>((r) => (release = r));
    let calls = 0;
    let running = 0;
    let maxRunning = 0;
    let abortedAt: number | undefined;
    let firstStartedAt = 0;
    const committedWhenSecondStarted: number[] = [];
    const handled: ConsumedBatch[] = [];

    const consumer = await runBatchConsumer({
      kafka: kit.kafka,
      groupId: group,
      topics: [topic],
      fromBeginning: true,
      batchTimeoutMs: BUDGET_MS,
      unreadyAfterFailures: 1,
      redeliveryInitialMs: 50,
      redeliveryMaxMs: 200,
      logger,
      async handle(batch, ctl) {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        try {
          if (calls === 1) {
            firstStartedAt = Date.now();
            ctl.signal?.addEventListener("abort", () => (abortedAt = Date.now()));
            await hung; // hangs until the test releases it
            return;
          }
          const committed = await kit.committed(group, topic);
          committedWhenSecondStarted.push(committed.get(batch.partition) ?? -1);
          handled.push(batch);
        } finally {
          running--;
        }
      },
    });
    try {
      // the hung batch is abandoned within its budget and the consumer reports not ready
      await waitFor("the hung handler to be aborted", () => abortedAt !== undefined, 15_000 + BUDGET_MS);
      expect(abortedAt! - firstStartedAt).toBeLessThan(BUDGET_MS + SLACK_MS);
      await expect(consumer.readiness.check()).rejects.toThrow(/failed 1 batches in a row/);

      // no second handler while the abandoned one has not settled
      expect(calls).toBe(1);
      release();

      await waitFor("the redelivered batch to be handled", () => handled.length > 0);
      expect(maxRunning).toBe(1);
      // the abandoned handler finished before the redelivery started, and committed nothing
      expect(committedWhenSecondStarted[0]).toBe(-1);
      expect(handled[0]!.messages.map((m) => m.value?.toString())).toEqual(["v0", "v1", "v2", "v3", "v4"]);

      const partition = handled[0]!.partition;
      let committed = -1;
      const deadline = Date.now() + 15_000;
      while (committed !== 5 && Date.now() < deadline) committed = (await kit.committed(group, topic)).get(partition) ?? -1;
      expect(committed).toBe(5);
      await expect(consumer.readiness.check()).resolves.toBeUndefined();
    } finally {
      release();
      await consumer.stop();
    }
  });

  it("a handler still hung after another budget fails the redelivery too, without running the handler again", async () => {
    const topic = await kit.topic("budget-twice");
    await producer.send(topic, [{ key: "k", value: "only" }]);
    let release: () => void = () => undefined;
    const hung = new Promise<void>((r) => (release = r));
    let calls = 0;
    const consumer = await runBatchConsumer({
      kafka: kit.kafka,
      groupId: kit.group("budget-twice"),
      topics: [topic],
      fromBeginning: true,
      batchTimeoutMs: 300,
      unreadyAfterFailures: 3,
      redeliveryInitialMs: 50,
      redeliveryMaxMs: 100,
      logger,
      async handle() {
        calls++;
        if (calls === 1) await hung;
      },
    });
    try {
      // fails the first time by its budget, then again each time the stale handler is still running
      let failure = "";
      const deadline = Date.now() + 20_000;
      while (!/failed [3-9]\d* batches in a row/.test(failure) && Date.now() < deadline) {
        failure = await consumer.readiness.check().then(
          () => "",
          (e: unknown) => String(e),
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(failure).toMatch(/failed \d+ batches in a row.*not handled within 300ms/);
      expect(calls).toBe(1);
      release();
      await waitFor("the redelivery to run", () => calls >= 2, 20_000);
      const readyBy = Date.now() + 10_000;
      let ok = false;
      while (!ok && Date.now() < readyBy)
        ok = await consumer.readiness.check().then(
          () => true,
          () => false,
        );
      expect(ok).toBe(true);
    } finally {
      release();
      await consumer.stop();
    }
  });
});
