/**
 * The metric names the suite promises, which the alert rules
 * (deploy/prometheus/alerts.yml) and the Grafana dashboard
 * (deploy/grafana/dashboards/) are written against, and a reader of the metric
 * names a PromQL expression uses. Tests hold the rules, the dashboard and the
 * code to this list, so a renamed metric fails a test instead of leaving a
 * silent panel or an alert that can never fire.
 */
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../deploy/stack/settings.js";

export type MetricType = "counter" | "gauge" | "histogram";

/** Who exports the metric: the suite's code, prom-client's Node defaults, or Prometheus itself. */
export type MetricSource = "suite" | "node" | "prometheus";

export const METRIC_CONTRACT: Readonly<Record<string, { type: MetricType; source: MetricSource }>> = {
  grpc_server_started_total: { type: "counter", source: "suite" },
  grpc_server_handled_total: { type: "counter", source: "suite" },
  grpc_server_handling_seconds: { type: "histogram", source: "suite" },
  grpc_server_msg_received_total: { type: "counter", source: "suite" },
  grpc_server_msg_sent_total: { type: "counter", source: "suite" },
  grpc_client_started_total: { type: "counter", source: "suite" },
  grpc_client_handled_total: { type: "counter", source: "suite" },
  grpc_client_handling_seconds: { type: "histogram", source: "suite" },
  grpc_client_circuit_breaker_state: { type: "gauge", source: "suite" },
  http_request_duration_seconds: { type: "histogram", source: "suite" },
  cache_lookups_total: { type: "counter", source: "suite" },
  kafka_consumergroup_lag: { type: "gauge", source: "suite" },
  relation_persister_batch_size: { type: "histogram", source: "suite" },
  relation_persister_batch_seconds: { type: "histogram", source: "suite" },
  relation_persister_persist_seconds: { type: "histogram", source: "suite" },
  relation_persister_events_total: { type: "counter", source: "suite" },
  gateway_rate_limit_decisions_total: { type: "counter", source: "suite" },
  relation_outbox_entries: { type: "gauge", source: "suite" },
  relation_profile_change_notices_live: { type: "gauge", source: "suite" },
  relation_pending_transitions: { type: "gauge", source: "suite" },
  process_cpu_seconds_total: { type: "counter", source: "node" },
  nodejs_eventloop_lag_seconds: { type: "gauge", source: "node" },
  up: { type: "gauge", source: "prometheus" },
};

const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

/** The contract metric a series name belongs to (`x_bucket` → `x` for a histogram `x`), if any. */
export function contractMetricOf(series: string): string | undefined {
  if (METRIC_CONTRACT[series]) return series;
  const base = series.replace(HISTOGRAM_SERIES, "");
  return base !== series && METRIC_CONTRACT[base]?.type === "histogram" ? base : undefined;
}

const KEYWORDS = new Set(["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "inf", "nan", "atan2"]);

/**
 * The metric names a PromQL expression selects. Label values, matchers, label
 * lists of `by`/`without`/`on`/`ignoring`/`group_*`, ranges and numbers are
 * dropped first; what is left that is not a function call or a keyword is a
 * metric name. Grafana's `$variables` are dropped too.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\$\{?\w+\}?/g, " ");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.])([A-Za-z_:][\w:]*)(?!\w)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names].sort();
}

/** Non-test TypeScript sources of the suite's processes and libraries. */
export function suiteSources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === "test" || entry.name === "gen") continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) out.push({ file: full, text: fs.readFileSync(full, "utf8") });
    }
  };
  for (const top of ["pkg", "gateway", "services"]) walk(path.join(ROOT, top));
  return out;
}
