/**
 * Spans of a consumed batch, after the OpenTelemetry messaging conventions
 * (docs/adr/0012-tracing-kafka-batches.md):
 *
 * - One CONSUMER span `process <topic>` for the whole batch, linked to every
 *   distinct sampled producer span among its records. When all records come
 *   from one producer span (a batch of one, or one request's records) that
 *   span is its parent instead, so the request, the handler's MySQL and Redis
 *   calls and what it publishes next are one trace.
 * - When the batch mixes producers it is a trace of its own; then each
 *   sampled record also gets a short CONSUMER span in its producer's trace,
 *   child of the producer span, covering the batch and linked to the batch
 *   span: the request's trace shows when and how its record was processed,
 *   and leads to the batch's trace (its MySQL writes) by the link.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
} from "@opentelemetry/api";
import type { KafkaMessage } from "kafkajs";
import { extractTraceContext } from "./trace-headers.js";

const tracer = trace.getTracer("@rs/kafka");

/** Attributes every Kafka span of the suite carries (messaging conventions). */
export function messagingAttributes(operation: "send" | "process", topic: string, extra: Attributes = {}): Attributes {
  return {
    "messaging.system": "kafka",
    "messaging.operation.type": operation,
    "messaging.operation.name": operation,
    "messaging.destination.name": topic,
    ...extra,
  };
}

/** The span name the conventions give: `{operation} {destination}`. */
export const messagingSpanName = (operation: "send" | "process", topic: string): string => `${operation} ${topic}`;

interface Producer {
  readonly ctx: Context;
  readonly sc: SpanContext;
  readonly message: KafkaMessage;
}

const isSampled = (sc: SpanContext) => (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

/** The distinct producer span contexts of a batch's records, in record order. */
function producersOf(messages: readonly KafkaMessage[]): { producers: Producer[]; untraced: number } {
  const seen = new Set<string>();
  const producers: Producer[] = [];
  let untraced = 0;
  for (const message of messages) {
    const ctx = extractTraceContext(message.headers);
    const sc = trace.getSpanContext(ctx);
    if (!sc) {
      untraced++;
      continue;
    }
    const id = `${sc.traceId}-${sc.spanId}`;
    if (seen.has(id)) continue;
    seen.add(id);
    producers.push({ ctx, sc, message });
  }
  return { producers, untraced };
}

export interface BatchSpans {
  /** The context the handler runs in (the batch span active). */
  readonly ctx: Context;
  /** Ends every span of the batch, as failed when `err` is given. */
  end(err?: unknown): void;
}

function finish(span: Span, err: unknown): void {
  if (err !== undefined) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}

export function startBatchSpans(topic: string, partition: number, groupId: string, messages: readonly KafkaMessage[]): BatchSpans {
  const { producers, untraced } = producersOf(messages);
  const attributes = messagingAttributes("process", topic, {
    "messaging.destination.partition.id": String(partition),
    "messaging.consumer.group.name": groupId,
    "messaging.batch.message_count": messages.length,
  });
  const single = producers.length === 1 && untraced === 0 ? producers[0] : undefined;
  const links: Link[] = single ? [] : producers.filter((p) => isSampled(p.sc)).map((p) => ({ context: p.sc }));
  const parent = single ? single.ctx : ROOT_CONTEXT;
  const batch = tracer.startSpan(messagingSpanName("process", topic), { kind: SpanKind.CONSUMER, links, attributes }, parent);
  const perRecord: Span[] = [];
  if (!single && batch.isRecording()) {
    const batchLink: Link = { context: batch.spanContext() };
    for (const p of producers) {
      if (!isSampled(p.sc)) continue;
      perRecord.push(
        tracer.startSpan(
          messagingSpanName("process", topic),
          {
            kind: SpanKind.CONSUMER,
            links: [batchLink],
            attributes: messagingAttributes("process", topic, {
              "messaging.destination.partition.id": String(partition),
              "messaging.consumer.group.name": groupId,
              "messaging.kafka.offset": Number(p.message.offset),
              ...(p.message.key ? { "messaging.kafka.message.key": p.message.key.toString() } : {}),
            }),
          },
          p.ctx,
        ),
      );
    }
  }
  return {
    ctx: trace.setSpan(parent, batch),
    end(err?: unknown) {
      for (const span of perRecord) finish(span, err);
      finish(batch, err);
    },
  };
}

/** Runs `fn` with the batch's spans around it. */
export async function withBatchSpans<T>(
  topic: string,
  partition: number,
  groupId: string,
  messages: readonly KafkaMessage[],
  fn: () => Promise<T>,
): Promise<T> {
  const spans = startBatchSpans(topic, partition, groupId, messages);
  try {
    const result = await context.with(spans.ctx, fn);
    spans.end();
    return result;
  } catch (err) {
    spans.end(err);
    throw err;
  }
}
