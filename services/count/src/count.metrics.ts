/**
 * Prometheus metrics of the count service, in `cache_lookups_total`:
 * `{cache="counter"}` counts counters answered by a cache (hit: the process's
 * hot counters or Redis) or read from MySQL (miss); `{cache="hot_counter"}`
 * those the process kept (hit) or asked Redis for (miss).
 */
import { cacheLookupCounter } from "@rs/runtime";
import type { HotCountersObserver } from "./adapters/memory/hot-counters.js";
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

const hotLookup = cacheLookupCounter("hot_counter");

export const hotCounterMetrics: HotCountersObserver = {
  lookups(hits, misses) {
    hotLookup("hit", hits);
    hotLookup("miss", misses);
  },
};
