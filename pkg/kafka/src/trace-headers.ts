import { ROOT_CONTEXT, context, propagation, type Context, type TextMapGetter } from "@opentelemetry/api";
import type { IHeaders } from "kafkajs";

/** Reads Kafka headers, which arrive from the broker as Buffers. */
export const kafkaHeadersGetter: TextMapGetter<IHeaders | undefined> = {
  keys: (carrier) => (carrier ? Object.keys(carrier) : []),
  get(carrier, key) {
    const value = carrier?.[key];
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return value.map((v) => v.toString());
    return value.toString();
  },
};

/**
 * Writes the trace context of `ctx` (default: the active one) into `headers`
 * with the globally registered propagator (W3C `traceparent` under the SDK; a
 * no-op without one). Returns `headers`.
 */
export function injectTraceContext<H extends Record<string, string | Buffer>>(headers: H, ctx: Context = context.active()): H {
  propagation.inject(ctx, headers);
  return headers;
}

/**
 * The trace context a producer put into a consumed message's headers, as a
 * context to run the message's work in (`context.with(...)`) or to take a
 * span link from. Headers without one give `parent` unchanged.
 */
export function extractTraceContext(headers: IHeaders | undefined, parent: Context = ROOT_CONTEXT): Context {
  return propagation.extract(parent, headers, kafkaHeadersGetter);
}
