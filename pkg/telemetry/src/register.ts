/**
 * Preloaded with `node --import <path>/register.ts` (after tsx): hooks ESM
 * loading so instrumentations see the libraries, then starts the SDK with the
 * service name from OTEL_SERVICE_NAME.
 *
 * Tracing is on only when OTEL_EXPORTER_OTLP_ENDPOINT names a collector: the
 * instrumentation costs tens of microseconds of CPU per call (measured on
 * GetUser, docs/benchmarks.md), which buys nothing when no span leaves the process.
 */
import { register } from "node:module";
import { startTelemetry } from "./sdk.js";

if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
  startTelemetry(process.env.OTEL_SERVICE_NAME ?? "unknown-service");
}
