/**
 * pino logger with the service name and, inside a traced operation, the
 * active trace and span ids on every line.
 */
import { pino, type Logger } from "pino";
import { isSpanContextValid, trace } from "@opentelemetry/api";

export type { Logger } from "pino";

/** Creates the root logger of a process. Secrets are redacted by key name. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: {
      paths: ["password", "*.password", "token", "*.token", "secret", "*.secret", "authorization", "*.authorization", "dsn", "*.dsn"],
      censor: "[redacted]",
    },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const ctx = span.spanContext();
      if (!isSpanContextValid(ctx)) return {};
      return { trace_id: ctx.traceId, span_id: ctx.spanId };
    },
  });
}
