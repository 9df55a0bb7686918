import { NodeSDK } from "@opentelemetry/sdk-node";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { GrpcInstrumentation } from "@opentelemetry/instrumentation-grpc";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { ExpressInstrumentation } from "@opentelemetry/instrumentation-express";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { MySQL2Instrumentation } from "@opentelemetry/instrumentation-mysql2";

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
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)/.test(req.url ?? "") }),
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
