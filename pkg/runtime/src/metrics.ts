import { Registry, collectDefaultMetrics } from "prom-client";

/** The process's one Prometheus registry, with Node's default metrics. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });
