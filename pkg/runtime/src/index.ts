/**
 * What every process of the suite shares at run time: the admin HTTP server
 * (`/healthz`, `/readyz`, `/metrics`) and an ordered graceful shutdown.
 */
export { startAdminServer, type AdminServer, type ReadinessCheck } from "./admin-server.js";
export { Lifecycle, type ShutdownStep } from "./lifecycle.js";
export {
  metricsRegistry,
  counterMetric,
  gaugeMetric,
  histogramMetric,
  cacheLookups,
  cacheLookupCounter,
  type CacheLookupCount,
  type MetricSpec,
  type CacheLookupResult,
} from "./metrics.js";
export { runMain } from "./run-main.js";
