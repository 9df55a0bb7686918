/** Prometheus metrics of the count service (cache hit ratio), in the process registry. */
import { Counter } from "prom-client";
import { metricsRegistry } from "@rs/runtime";
import type { CountReadsObserver } from "./domain/count-reads.service.js";

const NAME = "count_cache_lookups_total";

const lookups: Counter<"result"> =
  (metricsRegistry.getSingleMetric(NAME) as Counter<"result"> | undefined) ??
  new Counter({ name: NAME, help: "Counter cache lookups by result: hit, miss, error (Redis unavailable)", labelNames: ["result"], registers: [metricsRegistry] });

export const countReadsMetrics: CountReadsObserver = {
  lookups(hits, misses) {
    if (hits > 0) lookups.inc({ result: "hit" }, hits);
    if (misses > 0) lookups.inc({ result: "miss" }, misses);
  },
  cacheError() {
    lookups.inc({ result: "error" });
  },
};
