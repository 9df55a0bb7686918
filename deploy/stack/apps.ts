/** The suite's own processes, as the local stack runs them. */
import os from "node:os";
import path from "node:path";
import { HOST, ROOT, TOPICS, infraEnv, ports, type PortSetting } from "./settings.js";
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
  /** The process name (log, pid file, status line); for instance 0 of a service, the service's name. */
  readonly name: string;
  readonly entry: string;
  /** The gRPC or HTTP port it serves, if any. */
  readonly port?: PortSetting;
  readonly admin: PortSetting;
  /** A Kafka consumer: more group members than the topic has partitions would sit idle. */
  readonly maxProcesses?: number;
}

export const APPS: readonly AppProcess[] = [
  { name: "user", entry: "services/user/src/main.ts", port: ports.user, admin: ports.userAdmin },
  { name: "count", entry: "services/count/src/main.ts", port: ports.count, admin: ports.countAdmin },
  { name: "relation", entry: "services/relation/src/main.ts", port: ports.relation, admin: ports.relationAdmin },
  {
    name: "relation-persister",
    entry: "services/relation/src/persister.main.ts",
    admin: ports.persisterAdmin,
    maxProcesses: TOPICS.relationEvents.partitions,
  },
  { name: "count-consumer", entry: "services/count/src/consumer.main.ts", admin: ports.countConsumerAdmin, maxProcesses: TOPICS.countChanged.partitions },
  { name: "user-consumer", entry: "services/user/src/consumer.main.ts", admin: ports.userConsumerAdmin, maxProcesses: TOPICS.countChanged.partitions },
  { name: "gateway", entry: "gateway/src/main.ts", port: ports.gateway, admin: ports.gatewayAdmin },
];

/** Most processes per service RS_PROCESSES may ask for (keeps every instance's ports inside its own block, see {@link INSTANCE_PORT_STRIDE}). */
export const MAX_PROCESSES = 32;
/**
 * Process k (from 0) of a service serves on process 0's gRPC and admin ports +
 * k × this, so process 0 keeps the documented ports and no two blocks meet
 * (the admin ports of one process span 7). The gateway's HTTP port is the
 * same for all: they bind it with SO_REUSEPORT (ADR 0017).
 */
export const INSTANCE_PORT_STRIDE = 10;

/**
 * RS_PROCESSES: how many processes of each service the local stack runs
 * (ADR 0017): a whole number from 1 to {@link MAX_PROCESSES}, or `auto`
 * (the default): one per core, os.availableParallelism().
 */
export function processesPerService(raw: string | undefined = process.env.RS_PROCESSES, cores = os.availableParallelism()): number {
  const value = raw === undefined || raw.trim() === "" || raw.trim().toLowerCase() === "auto" ? Math.min(cores, MAX_PROCESSES) : Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_PROCESSES) {
    throw new Error(`RS_PROCESSES must be auto or a whole number from 1 to ${MAX_PROCESSES}, got "${raw}"`);
  }
  return value;
}

/** One process of a service, as the local stack runs it. */
export interface AppInstance extends AppProcess {
  /** The service it is a process of (its OTEL_SERVICE_NAME, its Prometheus job). */
  readonly service: string;
  /** 0 for the first process. */
  readonly index: number;
  /** Whether `port` is shared with process 0 (the gateway's HTTP port, SO_REUSEPORT) rather than its own. */
  readonly sharesPort: boolean;
}

/** Process `index` of a service is called `<service>` (index 0) or `<service>-<index + 1>`. */
export const instanceName = (service: string, index: number): string => (index === 0 ? service : `${service}-${index + 1}`);

/** Whether `name` is a process of `service` under {@link instanceName}. */
export const isInstanceOf = (name: string, service: string): boolean => name === service || new RegExp(`^${service}-[0-9]+$`).test(name);

/** Process `index` of `app`: its name, and its ports moved by `index` × {@link INSTANCE_PORT_STRIDE}. */
export function appInstance(app: AppProcess, index: number): AppInstance {
  const name = instanceName(app.name, index);
  const move = (p: PortSetting): PortSetting =>
    index === 0 ? p : { ...p, name: `${p.name} of ${name} (${p.variable} + ${index * INSTANCE_PORT_STRIDE})`, port: p.port + index * INSTANCE_PORT_STRIDE };
  const sharesPort = app.name === "gateway" && index > 0;
  return {
    ...app,
    name,
    service: app.name,
    index,
    sharesPort,
    admin: move(app.admin),
    ...(app.port ? { port: sharesPort ? app.port : move(app.port) } : {}),
  };
}

/** The processes of `app` the stack runs when asked for `processes` per service (capped by the app's own maximum). */
export function appInstances(app: AppProcess, processes: number = processesPerService()): AppInstance[] {
  const n = Math.min(processes, app.maxProcesses ?? processes);
  return Array.from({ length: n }, (_, i) => appInstance(app, i));
}

/** Every process of the suite, service by service in {@link APPS} order. */
export const allInstances = (processes: number = processesPerService()): AppInstance[] => APPS.flatMap((app) => appInstances(app, processes));

/** Preloaded after tsx so tracing hooks every instrumented library before it loads. */
export const TELEMETRY_PRELOAD = path.join(ROOT, "pkg", "telemetry", "src", "register.ts");

/** How process `app` is started; `app.service` (else its name) is the service it runs. */
export function appSpec(app: AppProcess & { readonly service?: string }, jwtSecret: string): ProcessSpec {
  const entry = path.join(ROOT, app.entry);
  const otlp = otlpEndpoint();
  const service = app.service ?? app.name;
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
      OTEL_SERVICE_NAME: service,
      // Spans leave each process within a second (the SDK's default is 5 s), so
      // a trace is complete in Jaeger soon after the request.
      ...(otlp ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_BSP_SCHEDULE_DELAY: process.env.OTEL_BSP_SCHEDULE_DELAY ?? "1000" } : {}),
      SERVICE_HOST: HOST,
      ADMIN_PORT: String(app.admin.port),
      ...(app.port ? { [service === "gateway" ? "HTTP_PORT" : "GRPC_PORT"]: String(app.port.port) } : {}),
      // every gateway process of the stack binds the one HTTP port (ADR 0017)
      ...(service === "gateway" ? { HTTP_REUSE_PORT: "true" } : {}),
      JWT_SECRET: jwtSecret,
    },
  };
}

export async function appReady(app: AppProcess): Promise<boolean> {
  const res = await fetch(`http://${HOST}:${app.admin.port}/readyz`, { signal: AbortSignal.timeout(1000) });
  return res.ok;
}
