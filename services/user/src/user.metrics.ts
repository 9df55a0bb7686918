/**
 * The user service's own metrics, in the process registry. Each is created
 * once per process (a test process may start several instances; the registry
 * refuses a second metric of one name).
 */
import { Counter } from "prom-client";
import { cacheLookupCounter, metricsRegistry } from "@rs/runtime";
import type { HotProfilesObserver } from "./adapters/memory/hot-profiles.js";

function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): () => Counter<L> {
  let metric: Counter<L> | undefined;
  return () =>
    (metric ??= (metricsRegistry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [metricsRegistry] }));
}

/** Profile cache lookups per id in `cache_lookups_total{cache="profile"}`: `hit`, `negative_hit` (known unknown id), `miss`. */
export const countProfileLookup = cacheLookupCounter("profile");

/** Hot profiles kept in process (`cache_lookups_total{cache="hot_profile"}`): hit, or miss (asked of Redis). */
const countHotProfileLookup = cacheLookupCounter("hot_profile");
export const hotProfileMetrics: HotProfilesObserver = {
  lookups(hits, misses) {
    countHotProfileLookup("hit", hits);
    countHotProfileLookup("miss", misses);
  },
};

/** Queries sent to the shards, by query name; tests read it to prove a read stayed off the database. */
export const shardQueries = counter("user_shard_queries_total", "SQL statements sent to the user shards, by query", ["query"]);

/** Existence checks answered by the bloom filter alone (`absent`), or passed on (`maybe`, `untrusted`). */
export const bloomAnswers = counter("user_bloom_answers_total", "Bloom filter answers of existence checks", ["answer"]);
