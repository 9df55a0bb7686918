/** Prometheus metrics of the count service: counter cache lookups in `cache_lookups_total{cache="counter"}`. */
import { cacheLookupCounter } from "@rs/runtime";
import type { CountReadsObserver } from "./domain/count-reads.service.js";

const countLookup = cacheLookupCounter("counter");

export const countReadsMetrics: CountReadsObserver = {
  lookups(hits, misses) {
    countLookup("hit", hits);
    countLookup("miss", misses);
  },
  cacheError() {
    countLookup("error");
  },
};
