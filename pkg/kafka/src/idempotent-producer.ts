import { SpanKind, SpanStatusCode, context, trace, type Context, type Span } from "@opentelemetry/api";
import { type Kafka, type Message, type Producer, type TopicMessages } from "kafkajs";
import { javaCompatiblePartitioner } from "./murmur2-partitioner.js";
import { injectTraceContext } from "./trace-headers.js";
import { messagingAttributes, messagingSpanName } from "./batch-tracing.js";

/** Retries of one produce request on retriable errors; bounded so a caller gets an answer. */
export const DEFAULT_PRODUCER_RETRIES = 5;
export const DEFAULT_PRODUCER_INITIAL_RETRY_MS = 100;
export const DEFAULT_PRODUCER_MAX_RETRY_MS = 1_000;
/** How long the broker may wait for the in-sync replicas before answering a produce. */
export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
/** Messages accepted but not yet acknowledged; beyond this `send` refuses at once. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 10_000;
/** Upper bounds of one coalesced produce request (the broker's default limit is 1 MiB). */
export const DEFAULT_MAX_BATCH_MESSAGES = 1_000;
export const DEFAULT_MAX_BATCH_BYTES = 512 * 1024;
/** Rough per-record overhead in the record batch, for the byte budget. */
const RECORD_OVERHEAD_BYTES = 32;
/** acks=all: the leader answers once every in-sync replica has the record. */
const ACKS_ALL = -1;

const tracer = trace.getTracer("@rs/kafka");

/** One record to publish. The key decides the partition (Kafka's murmur2 partitioner). */
export interface ProducerMessage {
  readonly key: string;
  readonly value: Buffer | string;
  readonly headers?: Readonly<Record<string, string | Buffer>>;
}

export interface IdempotentProducerOptions {
  readonly retries?: number;
  readonly initialRetryTimeMs?: number;
  readonly maxRetryTimeMs?: number;
  readonly ackTimeoutMs?: number;
  readonly maxQueuedMessages?: number;
  readonly maxBatchMessages?: number;
  readonly maxBatchBytes?: number;
}

/** Options of one `send`. */
export interface SendOptions {
  /**
   * When the queue has no room for these messages, wait up to this long for
   * acknowledgements to make room (in arrival order) instead of refusing at
   * once; 0 (the default) refuses at once. A background writer that must
   * publish everything eventually (the persister) waits; a request path
   * (follow) refuses, so its caller hears "unavailable" at once.
   */
  readonly waitForRoomMs?: number;
}

export interface IdempotentProducer {
  /** Most messages accepted and not yet acknowledged; one `send` larger than this is always refused. */
  readonly maxQueuedMessages: number;
  /**
   * Publishes `messages` to `topic` in order. Resolves only once the broker
   * has acknowledged all of them with acks=all; rejects otherwise (the
   * messages may or may not have been written: callers that must know treat a
   * rejection as "not published" and compensate with a newer record).
   */
  send(topic: string, messages: readonly ProducerMessage[], opts?: SendOptions): Promise<void>;
  /** Publishes what was already accepted, then disconnects. Later sends reject. */
  disconnect(): Promise<void>;
}

/** Thrown by `send` when too many messages await acknowledgement (back-pressure). */
export class ProducerBackpressureError extends Error {
  constructor(queued: number) {
    super(`producer queue full (${queued} messages awaiting acknowledgement)`);
    this.name = "ProducerBackpressureError";
  }
}

interface Pending {
  readonly topic: string;
  readonly messages: Message[];
  readonly bytes: number;
  /** The caller's context with its publish span, for the produce request it ends up in. */
  readonly ctx: Context;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

function sizeOf(m: ProducerMessage): number {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(m.key) + Buffer.byteLength(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  return bytes;
}

function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/**
 * Creates and connects an idempotent producer (KIP-98): the broker drops
 * duplicates of a retried batch by producer id + sequence, so a retry after a
 * lost response never writes a record twice. acks=all on every request, one
 * request in flight per connection (what KafkaJS needs to keep sequence
 * numbers in order), bounded retries.
 *
 * Concurrent `send` calls are coalesced: while one produce request is in
 * flight, the next ones queue and go out together in one request. KafkaJS
 * serialises an idempotent producer's requests per broker anyway, so this
 * adds no latency and turns N round trips into one. Queue order is request
 * order, so records of one key keep the order in which `send` was called.
 *
 * Every message carries the caller's trace context in its headers, under a
 * PRODUCER span that ends when the broker acknowledges.
 */
export async function createIdempotentProducer(kafka: Kafka, opts: IdempotentProducerOptions = {}): Promise<IdempotentProducer> {
  const ackTimeout = opts.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  const maxQueued = opts.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
  const maxBatchMessages = opts.maxBatchMessages ?? DEFAULT_MAX_BATCH_MESSAGES;
  const maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  const log = kafka.logger().namespace("IdempotentProducer");
  const open = async (): Promise<Producer> => {
    const p = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Kafka's Java murmur2 partitioner for keyed records, without KafkaJS's emulated 64-bit arithmetic.
      createPartitioner: javaCompatiblePartitioner,
      retry: {
        retries: opts.retries ?? DEFAULT_PRODUCER_RETRIES,
        initialRetryTime: opts.initialRetryTimeMs ?? DEFAULT_PRODUCER_INITIAL_RETRY_MS,
        maxRetryTime: opts.maxRetryTimeMs ?? DEFAULT_PRODUCER_MAX_RETRY_MS,
      },
    });
    await p.connect();
    return p;
  };
  let producer = await open();
  /**
   * Set after a failed request. When KafkaJS gives up on a request it rewinds
   * the partition's sequence numbers, but the broker may have written that
   * request (only the response was lost). The next request would then reuse
   * the same sequence range and, with the same record count, be taken by the
   * broker for a duplicate and acknowledged without being written. A fresh
   * producer gets a new producer id (what the Java client achieves by bumping
   * the epoch), so no acknowledged record can be dropped that way.
   */
  let stale = false;

  const queue: Pending[] = [];
  let queuedMessages = 0;
  let running = false;
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;
  /** Senders waiting for room, oldest first; each needs `n` messages of room. */
  const roomWaiters: { readonly n: number; readonly ready: () => void }[] = [];
  /** Room promised to woken waiters that have not enqueued yet. */
  let reserved = 0;
  const wakeRoomWaiters = () => {
    while (roomWaiters.length > 0 && queuedMessages + reserved + roomWaiters[0]!.n <= maxQueued) {
      const w = roomWaiters.shift()!;
      reserved += w.n;
      w.ready();
    }
  };
  /** Resolves when `n` more messages fit behind every earlier waiter; rejects after `waitMs`. */
  const waitForRoom = (n: number, waitMs: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = roomWaiters.indexOf(waiter);
        if (i >= 0) roomWaiters.splice(i, 1);
        reject(new ProducerBackpressureError(queuedMessages));
        wakeRoomWaiters();
      }, waitMs);
      const waiter = {
        n,
        ready: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      roomWaiters.push(waiter);
    });

  /** Takes the longest prefix of the queue that fits one request (at least one entry). */
  const takeBatch = (): Pending[] => {
    const batch: Pending[] = [];
    let count = 0;
    let bytes = 0;
    while (queue.length > 0) {
      const next = queue[0]!;
      if (batch.length > 0 && (count + next.messages.length > maxBatchMessages || bytes + next.bytes > maxBatchBytes)) break;
      batch.push(queue.shift()!);
      count += next.messages.length;
      bytes += next.bytes;
    }
    return batch;
  };

  /**
   * Sends batches until the queue is empty. `running` is cleared in the same
   * synchronous step that sees the queue empty, so a `send` arriving at any
   * later moment starts a new flush instead of stranding its entry.
   */
  const flush = async (): Promise<void> => {
    for (;;) {
      if (queue.length === 0) {
        running = false;
        return;
      }
      const batch = takeBatch();
      const topicMessages: TopicMessages[] = batch.map((p) => ({ topic: p.topic, messages: p.messages }));
      try {
        if (stale) {
          await producer.disconnect().catch(() => undefined);
          producer = await open();
          stale = false;
          log.info("producer re-initialised with a new producer id after a failed request");
        }
        // Runs in the first caller's context, so client-library spans (if any
        // instrumentation is loaded) belong to a request that is in this batch.
        await context.with(batch[0]!.ctx, () => producer.sendBatch({ topicMessages, acks: ACKS_ALL, timeout: ackTimeout }));
        for (const p of batch) p.resolve();
      } catch (err) {
        stale = true;
        for (const p of batch) p.reject(err);
      } finally {
        for (const p of batch) queuedMessages -= p.messages.length;
        wakeRoomWaiters();
      }
    }
  };

  const send = (topic: string, messages: readonly ProducerMessage[], opts: SendOptions = {}): Promise<void> => {
    if (closed) return Promise.reject(new Error("producer is disconnected"));
    if (messages.length === 0) return Promise.resolve();
    const waitMs = opts.waitForRoomMs ?? 0;
    const full = roomWaiters.length > 0 || queuedMessages + reserved + messages.length > maxQueued;
    if (full && (waitMs <= 0 || messages.length > maxQueued)) return Promise.reject(new ProducerBackpressureError(queuedMessages));
    if (full)
      return waitForRoom(messages.length, waitMs).then(() => {
        reserved -= messages.length;
        return enqueue(topic, messages);
      });
    return enqueue(topic, messages);
  };

  const enqueue = (topic: string, messages: readonly ProducerMessage[]): Promise<void> => {
    if (closed) return Promise.reject(new Error("producer is disconnected"));
    const only = messages.length === 1 ? messages[0] : undefined;
    const span = tracer.startSpan(messagingSpanName("send", topic), {
      kind: SpanKind.PRODUCER,
      attributes: messagingAttributes("send", topic, only ? { "messaging.kafka.message.key": only.key } : { "messaging.batch.message_count": messages.length }),
    });
    const ctx = trace.setSpan(context.active(), span);
    let bytes = 0;
    const kafkaMessages: Message[] = messages.map((m) => {
      bytes += sizeOf(m);
      return { key: m.key, value: m.value, headers: injectTraceContext({ ...m.headers }, ctx) };
    });
    const acked = new Promise<void>((resolve, reject) => {
      queue.push({ topic, messages: kafkaMessages, bytes, ctx, resolve, reject });
    });
    queuedMessages += messages.length;
    if (!running) {
      running = true;
      flushing = flush();
    }
    return acked.then(
      () => endSpan(span),
      (err: unknown) => {
        endSpan(span, err);
        throw err;
      },
    );
  };

  return {
    maxQueuedMessages: maxQueued,
    send,
    async disconnect() {
      closed = true;
      await flushing;
      await producer.disconnect();
    },
  };
}
