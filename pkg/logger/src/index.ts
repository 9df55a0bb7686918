/**
 * pino logger with the service name and, on every line, the request id(s) of
 * the work it belongs to (see request-context.ts) and, inside a traced
 * operation, the active trace and span ids.
 */
import { pino, type DestinationStream, type Logger } from "pino";
import { isSpanContextValid, trace } from "@opentelemetry/api";
import { requestIdFields } from "./request-context.js";

export type { Logger } from "pino";
export {
  REQUEST_ID_HEADER,
  MAX_REQUEST_IDS,
  isRequestId,
  withRequestId,
  withRequestIds,
  currentRequestId,
  currentRequestIds,
  distinctRequestIds,
  formatRequestIds,
  parseRequestIds,
} from "./request-context.js";
export { withCallDeadline, callDeadline, callTimeLeftMs, boundByCallDeadline } from "./call-deadline.js";

/** Creates the root logger of a process. Secrets are redacted by key name. `destination` defaults to stdout. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? "info", destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level,
    base: { service },
    redact: {
      paths: ["password", "*.password", "token", "*.token", "secret", "*.secret", "authorization", "*.authorization", "dsn", "*.dsn"],
      censor: "[redacted]",
    },
    mixin() {
      const ids = requestIdFields();
      const span = trace.getActiveSpan();
      if (!span) return ids;
      const ctx = span.spanContext();
      if (!isSpanContextValid(ctx)) return ids;
      return { ...ids, trace_id: ctx.traceId, span_id: ctx.spanId };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
