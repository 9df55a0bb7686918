/**
 * The chaos harness's own instance of the local stack: a data folder of its
 * own and every port of settings.ts moved by a fixed offset, so it never
 * touches the default stack (or its data) that other work may be using.
 * Pure: computed from the port table it is given.
 */
import path from "node:path";
import type { PortSetting } from "../settings.js";

/** Default offset: keeps every moved port below Linux's ephemeral range (32768+). */
export const DEFAULT_PORT_OFFSET = 10_000;
/** Admin port of the persister the harness adds (one above the last admin port of the stack). */
export const EXTRA_PERSISTER_ADMIN_DEFAULT = 9107;

export interface ChaosEnvOptions {
  readonly root: string;
  readonly offset?: number;
  readonly dataDir?: string;
}

/** The environment the chaos instance runs with (the stack runner and every process it starts read it). */
export function chaosEnv(portTable: Readonly<Record<string, PortSetting>>, o: ChaosEnvOptions): Record<string, string> {
  const offset = o.offset ?? DEFAULT_PORT_OFFSET;
  const env: Record<string, string> = {};
  for (const p of Object.values(portTable)) {
    const moved = p.port + offset;
    if (moved < 1 || moved > 65535) throw new Error(`${p.variable}: ${p.port} + offset ${offset} is not a TCP port`);
    env[p.variable] = String(moved);
  }
  return {
    ...env,
    RS_CHAOS_EXTRA_ADMIN_PORT: String(EXTRA_PERSISTER_ADMIN_DEFAULT + offset),
    RS_DATA_DIR: o.dataDir ?? path.join(o.root, ".data", "chaos"),
    RS_JAEGER: "0",
    // one process per service: each phase takes "the" relation (persister, ...) away; with a
    // second one the phase would test the balancing instead (ADR 0017)
    RS_PROCESSES: "1",
    // its Redis faults (kill, FLUSHALL) act on one server
    RS_REDIS_CLUSTER: "0",
    RS_PROMETHEUS: "0",
    // no traces sent anywhere (apps.ts: an empty endpoint means none)
    OTEL_EXPORTER_OTLP_ENDPOINT: "",
    RS_KAFKA_HEAP: process.env.RS_KAFKA_HEAP ?? "512m",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
    // every request of the harness comes from 127.0.0.1: the per-address
    // limiters would throttle the load itself, which is not what is measured
    RATE_LIMIT_IP_CAPACITY: "100000",
    RATE_LIMIT_IP_REFILL_PER_SECOND: "100000",
    RATE_LIMIT_AUTH_CAPACITY: "1000",
    RATE_LIMIT_AUTH_REFILL_PER_SECOND: "1000",
    RATE_LIMIT_USER_CAPACITY: "10000",
    RATE_LIMIT_USER_REFILL_PER_SECOND: "10000",
    RS_CHAOS_INSTANCE: "1",
  };
}
