/**
 * gRPC metrics named as go-grpc-prometheus names them, so stock dashboards and
 * alert rules work unchanged: `grpc_server_*` for handled calls,
 * `grpc_client_*` for calls made through the balanced client. Every series is
 * labelled `grpc_type` (`unary`), `grpc_service` (`relation.v1.RelationService`)
 * and `grpc_method` (`Follow`); the "handled" counters add `grpc_code` (`OK`,
 * `UNAVAILABLE`, ...).
 */
import { status } from "@grpc/grpc-js";
import { counterMetric, histogramMetric } from "@rs/runtime";

/** Latency buckets (seconds): sub-millisecond cache hits up to multi-second stalls. */
const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type CallLabel = "grpc_type" | "grpc_service" | "grpc_method";

/** The labels of one method: `{ grpc_type, grpc_service, grpc_method }`. */
export type CallLabels = Readonly<Record<CallLabel, string>>;

const CALL_LABELS = ["grpc_type", "grpc_service", "grpc_method"] as const;
const HANDLED_LABELS = [...CALL_LABELS, "grpc_code"] as const;

/** `("/relation.v1.RelationService/Follow", "unary")` → `{ grpc_type: "unary", grpc_service: "relation.v1.RelationService", grpc_method: "Follow" }`. */
export function callLabels(path: string, type = "unary"): CallLabels {
  const [service = "unknown", method = "unknown"] = path.replace(/^\//, "").split("/");
  return { grpc_type: type, grpc_service: service, grpc_method: method };
}

/** `status.UNAVAILABLE` → `"UNAVAILABLE"`. */
export function codeLabel(code: status): string {
  return status[code] ?? String(code);
}

/** The `grpc_server_*` metrics (created once per process). */
export function serverMetrics() {
  return {
    started: counterMetric({ name: "grpc_server_started_total", help: "RPCs started on the server", labelNames: CALL_LABELS }),
    handled: counterMetric({ name: "grpc_server_handled_total", help: "RPCs completed on the server, by status code", labelNames: HANDLED_LABELS }),
    handling: histogramMetric({
      name: "grpc_server_handling_seconds",
      help: "Time from receiving an RPC to its answer (seconds)",
      labelNames: CALL_LABELS,
      buckets: LATENCY_BUCKETS_SECONDS,
    }),
    received: counterMetric({ name: "grpc_server_msg_received_total", help: "Request messages received by the server", labelNames: CALL_LABELS }),
    sent: counterMetric({ name: "grpc_server_msg_sent_total", help: "Response messages sent by the server", labelNames: CALL_LABELS }),
  };
}

/** The `grpc_client_*` metrics (created once per process). One logical call counts once, however many attempts it took. */
export function clientMetrics() {
  return {
    started: counterMetric({
      name: "grpc_client_started_total",
      help: "RPCs started by the client (one per call, retries not counted)",
      labelNames: CALL_LABELS,
    }),
    handled: counterMetric({
      name: "grpc_client_handled_total",
      help: "RPCs completed by the client, by the status code of the call's outcome (after retries)",
      labelNames: HANDLED_LABELS,
    }),
    handling: histogramMetric({
      name: "grpc_client_handling_seconds",
      help: "Time from starting an RPC to its outcome, retries included (seconds)",
      labelNames: CALL_LABELS,
      buckets: LATENCY_BUCKETS_SECONDS,
    }),
  };
}

/** Seconds since `started` (from `process.hrtime.bigint()`). */
export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
