/** The suite's own processes, as the local stack runs them. */
import path from "node:path";
import { HOST, ROOT, infraEnv, ports, type PortSetting } from "./settings.js";
import type { ProcessSpec } from "./processes.js";
import { jaegerEnabled, jaegerOtlpEndpoint } from "./jaeger.js";

/**
 * Where the processes send traces: the collector the caller names, else the
 * stack's Jaeger; none (tracing off) when RS_JAEGER=0 and nothing is named.
 */
export function otlpEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.OTEL_EXPORTER_OTLP_ENDPOINT || (jaegerEnabled(env) ? jaegerOtlpEndpoint() : undefined);
}

export interface AppProcess {
  readonly name: string;
  readonly entry: string;
  /** The gRPC or HTTP port it serves, if any. */
  readonly port?: PortSetting;
  readonly admin: PortSetting;
}

export const APPS: readonly AppProcess[] = [
  { name: "user", entry: "services/user/src/main.ts", port: ports.user, admin: ports.userAdmin },
  { name: "count", entry: "services/count/src/main.ts", port: ports.count, admin: ports.countAdmin },
  { name: "relation", entry: "services/relation/src/main.ts", port: ports.relation, admin: ports.relationAdmin },
  { name: "relation-persister", entry: "services/relation/src/persister.main.ts", admin: ports.persisterAdmin },
  { name: "count-consumer", entry: "services/count/src/consumer.main.ts", admin: ports.countConsumerAdmin },
  { name: "user-consumer", entry: "services/user/src/consumer.main.ts", admin: ports.userConsumerAdmin },
  { name: "gateway", entry: "gateway/src/main.ts", port: ports.gateway, admin: ports.gatewayAdmin },
];

/** Preloaded after tsx so tracing hooks every instrumented library before it loads. */
export const TELEMETRY_PRELOAD = path.join(ROOT, "pkg", "telemetry", "src", "register.ts");

export function appSpec(app: AppProcess, jwtSecret: string): ProcessSpec {
  const entry = path.join(ROOT, app.entry);
  const otlp = otlpEndpoint();
  return {
    name: app.name,
    command: process.execPath,
    args: ["--import", "tsx", "--import", TELEMETRY_PRELOAD, "--enable-source-maps", entry],
    cwd: ROOT,
    marker: entry,
    env: {
      ...infraEnv(),
      NODE_ENV: process.env.NODE_ENV ?? "development",
      LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
      OTEL_SERVICE_NAME: app.name,
      // Spans leave each process within a second (the SDK's default is 5 s), so
      // a trace is complete in Jaeger soon after the request.
      ...(otlp ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_BSP_SCHEDULE_DELAY: process.env.OTEL_BSP_SCHEDULE_DELAY ?? "1000" } : {}),
      SERVICE_HOST: HOST,
      ADMIN_PORT: String(app.admin.port),
      ...(app.port ? { [app.name === "gateway" ? "HTTP_PORT" : "GRPC_PORT"]: String(app.port.port) } : {}),
      JWT_SECRET: jwtSecret,
    },
  };
}

export async function appReady(app: AppProcess): Promise<boolean> {
  const res = await fetch(`http://${HOST}:${app.admin.port}/readyz`, { signal: AbortSignal.timeout(1000) });
  return res.ok;
}
