/**
 * Preloaded with `node --import @rs/telemetry/register` (after tsx): hooks ESM
 * loading so instrumentations see the libraries, then starts the SDK with the
 * service name from OTEL_SERVICE_NAME.
 */
import { register } from "node:module";
import { startTelemetry } from "./sdk.js";

register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
startTelemetry(process.env.OTEL_SERVICE_NAME ?? "unknown-service");
