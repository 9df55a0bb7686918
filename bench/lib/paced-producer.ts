/**
 * Offers relation transitions to a topic at a steady rate from a worker
 * thread, with its own Kafka client: the load generator of a lag measurement
 * then does not share the event loop of the process it measures (in
 * production the relation service produces, not the persister). Both threads
 * still share the machine's cores.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createIdempotentProducer, createKafka } from "@rs/kafka";
import { createLogger } from "@rs/logger";
import { encodeRelationEvent } from "../../services/relation/src/adapters/kafka/relation-event.codec.js";
import type { EdgeEvent } from "../../services/relation/src/persister/edge-fold.js";

export interface PacedProduceOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly events: readonly EdgeEvent[];
  readonly ratePerSecond: number;
  /** Records due are sent every this many ms. */
  readonly tickMs: number;
}

/** When the load started (epoch ms) and how long offering it took. */
export interface PacedProduceResult {
  readonly startedAtMs: number;
  readonly offeredSeconds: number;
}

/** Produces `events` at `ratePerSecond` (keyed by the follower, acks=all) from a worker thread; resolves when all are acknowledged. */
export function producePaced(opts: PacedProduceOptions): Promise<PacedProduceResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: opts });
    worker.once("message", (r: PacedProduceResult) => resolve(r));
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`paced producer exited with ${code}`));
    });
  });
}

async function run(opts: PacedProduceOptions): Promise<PacedProduceResult> {
  const logger = createLogger("paced-producer", "warn");
  const kafka = createKafka({ brokers: [...opts.brokers], clientId: `paced-producer-${process.pid}`, logger });
  const producer = await createIdempotentProducer(kafka);
  try {
    const { events, ratePerSecond, topic, tickMs } = opts;
    const t0 = Date.now();
    const sends: Promise<void>[] = [];
    let sent = 0;
    while (sent < events.length) {
      const due = Math.min(events.length, Math.floor(((Date.now() - t0) / 1_000) * ratePerSecond));
      if (due > sent) {
        const batch = events.slice(sent, due);
        sent = due;
        sends.push(
          producer.send(
            topic,
            batch.map((e) => ({ key: String(e.from), value: encodeRelationEvent(e) })),
          ),
        );
      }
      await new Promise((r) => setTimeout(r, tickMs));
    }
    await Promise.all(sends);
    return { startedAtMs: t0, offeredSeconds: (Date.now() - t0) / 1_000 };
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  void run(workerData as PacedProduceOptions).then((r) => port.postMessage(r));
}
