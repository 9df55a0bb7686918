import { Histogram } from "prom-client";
import { metricsRegistry } from "@rs/runtime";
import { status } from "@grpc/grpc-js";

/** Latency buckets (seconds): sub-millisecond cache hits up to multi-second stalls. */
const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const METRIC_NAME = "grpc_server_handling_seconds";

let histogram: Histogram<"method" | "code"> | undefined;

/**
 * The server latency histogram in the process registry, created once (a test
 * process may start several servers; the registry refuses a second metric of
 * the same name).
 */
export function serverLatency(): Histogram<"method" | "code"> {
  histogram ??=
    (metricsRegistry.getSingleMetric(METRIC_NAME) as Histogram<"method" | "code"> | undefined) ??
    new Histogram({
      name: METRIC_NAME,
      help: "Latency of unary gRPC calls handled, by method and status code",
      labelNames: ["method", "code"] as const,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [metricsRegistry],
    });
  return histogram;
}

/** `"/echo.v1.EchoService/Echo"` → `"echo.v1.EchoService/Echo"` (the usual label form). */
export function methodLabel(path: string): string {
  return path.startsWith("/") ? path.slice(1) : path;
}

/** `status.UNAVAILABLE` → `"UNAVAILABLE"`. */
export function codeLabel(code: status): string {
  return status[code] ?? String(code);
}
