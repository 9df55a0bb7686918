/**
 * OpenTelemetry bootstrap. Importing `@rs/telemetry/register` first (node
 * `--import`) starts tracing before any instrumented library loads; traces go
 * to OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set and nowhere otherwise.
 */
export { startTelemetry, stopTelemetry } from "./sdk.js";
export { REQUEST_ID_ATTRIBUTE } from "./attributes.js";
export { RateLimitingSampler, SuiteSampler, samplerFromEnv, DEFAULT_TRACES_PER_SECOND } from "./suite-sampler.js";
