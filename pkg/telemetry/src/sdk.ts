import { NodeSDK } from "@opentelemetry/sdk-node";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { GrpcInstrumentation } from "@opentelemetry/instrumentation-grpc";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { ExpressInstrumentation } from "@opentelemetry/instrumentation-express";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { MySQL2Instrumentation } from "@opentelemetry/instrumentation-mysql2";
import type { ServerResponse } from "node:http";
import { samplerFromEnv } from "./suite-sampler.js";
import { REQUEST_ID_ATTRIBUTE } from "./attributes.js";
/**
 * Links one span may carry: a persister batch links to every sampled
 * producer span among its records, and batches reach a few thousand records.
 */
const LINK_COUNT_LIMIT = 4096;

let sdk: NodeSDK | undefined;

/**
 * Kafka is traced by @rs/kafka itself (it batches several callers into one
 * request, so per-message context must be set per message, not per request).
 *
 * Starts the SDK once per process. Without an OTLP endpoint no exporter is set,
 * so spans still carry trace ids into the logs but nothing is sent (the
 * preload in register.ts does not start it at all then).
 */
export function startTelemetry(serviceName: string, endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT): void {
  if (sdk) return;
  sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    traceExporter: endpoint ? new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` }) : undefined,
    sampler: samplerFromEnv(),
    spanLimits: { linkCountLimit: Number(process.env.OTEL_SPAN_LINK_COUNT_LIMIT) || LINK_COUNT_LIMIT },
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)/.test(req.url ?? ""),
        // The id the gateway gave the request (echoed on the response), so a
        // trace can be found by the id a client or a log line shows.
        applyCustomAttributesOnSpan: (span, _req, res) => {
          const id = typeof (res as Partial<ServerResponse>).getHeader === "function" ? (res as ServerResponse).getHeader("x-request-id") : undefined;
          if (typeof id === "string") span.setAttribute(REQUEST_ID_ATTRIBUTE, id);
        },
      }),
      new ExpressInstrumentation(),
      new GrpcInstrumentation(),
      new IORedisInstrumentation(),
      new MySQL2Instrumentation(),
    ],
  });
  sdk.start();
}

/** Flushes and stops the SDK (last step of shutdown). */
export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}
