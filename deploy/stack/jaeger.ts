/**
 * Jaeger v2 in the local stack: the binary deploy/bootstrap.sh builds from its
 * Go module (.data/bin/jaeger), run with deploy/jaeger/config.yaml (the file
 * compose mounts too) on the local ports. Every process of the suite exports
 * its traces to it over OTLP/HTTP; `./dev.sh trace` reads them back through
 * its query API. On by default; RS_JAEGER=0 leaves it out (and tracing off).
 */
import path from "node:path";
import type { InfraServer } from "./infra.js";
import { HOST, ROOT, TOOLS_BIN_DIR, ports } from "./settings.js";

export const JAEGER_BIN = path.join(TOOLS_BIN_DIR, "jaeger");
export const JAEGER_CONFIG = path.join(ROOT, "deploy", "jaeger", "config.yaml");

/** Whether the stack runs Jaeger: yes unless RS_JAEGER is 0 (or false/off/no). */
export function jaegerEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !/^(0|false|off|no)$/i.test(env.RS_JAEGER?.trim() ?? "");
}

/** Jaeger's query API (and, in the official image, its UI). */
export const jaegerQueryUrl = () => `http://${HOST}:${ports.jaegerQuery.port}`;
/** Where the suite's processes send traces (OTLP/HTTP). */
export const jaegerOtlpEndpoint = () => `http://${HOST}:${ports.jaegerOtlpHttp.port}`;

export const jaeger: InfraServer = {
  name: "jaeger",
  ports: [ports.jaegerOtlpGrpc, ports.jaegerOtlpHttp, ports.jaegerQuery, ports.jaegerQueryGrpc, ports.jaegerHealth, ports.jaegerMetrics],
  startTimeoutMs: 30_000,
  address: () => `otlp ${jaegerOtlpEndpoint()}  query ${jaegerQueryUrl()}/api/traces`,
  prepare() {
    /* in-memory storage: no data folder */
  },
  spec() {
    return {
      name: "jaeger",
      command: JAEGER_BIN,
      marker: JAEGER_CONFIG,
      args: ["--config", `file:${JAEGER_CONFIG}`],
      env: {
        JAEGER_HOST: HOST,
        JAEGER_OTLP_GRPC_PORT: String(ports.jaegerOtlpGrpc.port),
        JAEGER_OTLP_HTTP_PORT: String(ports.jaegerOtlpHttp.port),
        JAEGER_QUERY_PORT: String(ports.jaegerQuery.port),
        JAEGER_QUERY_GRPC_PORT: String(ports.jaegerQueryGrpc.port),
        JAEGER_HEALTH_PORT: String(ports.jaegerHealth.port),
        JAEGER_METRICS_PORT: String(ports.jaegerMetrics.port),
        JAEGER_MAX_TRACES: process.env.RS_JAEGER_MAX_TRACES ?? "50000",
      },
    };
  },
  async ready() {
    const res = await fetch(`http://${HOST}:${ports.jaegerHealth.port}/status`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return false;
    // The query API answers once storage is up.
    return (await fetch(`${jaegerQueryUrl()}/api/services`, { signal: AbortSignal.timeout(1000) })).ok;
  },
};
