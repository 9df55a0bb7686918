import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from "prom-client";

/** The process's one Prometheus registry, with Node's default metrics. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

/** What a metric of the suite needs: its name, help text and label names. */
export interface MetricSpec<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  /** Default: {@link metricsRegistry}. */
  readonly registry?: Registry;
}

/**
 * The metric named `name` in `registry`, created by `create` the first time:
 * a process may build one component several times (tests start several
 * instances in one process), and a registry refuses a second metric of a name.
 */
function registered<M extends Metric>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

/** A counter in the registry, shared by everything in the process that asks for `spec.name`. */
export function counterMetric<L extends string>(spec: MetricSpec<L>): Counter<L> {
  const registry = spec.registry ?? metricsRegistry;
  return registered(
    registry,
    spec.name,
    () => new Counter({ name: spec.name, help: spec.help, labelNames: [...(spec.labelNames ?? [])], registers: [registry] }),
  );
}

/** A gauge in the registry (see {@link counterMetric}). */
export function gaugeMetric<L extends string>(spec: MetricSpec<L>): Gauge<L> {
  const registry = spec.registry ?? metricsRegistry;
  return registered(
    registry,
    spec.name,
    () => new Gauge({ name: spec.name, help: spec.help, labelNames: [...(spec.labelNames ?? [])], registers: [registry] }),
  );
}

/** A histogram in the registry with the given bucket bounds (see {@link counterMetric}). */
export function histogramMetric<L extends string>(spec: MetricSpec<L> & { readonly buckets: readonly number[] }): Histogram<L> {
  const registry = spec.registry ?? metricsRegistry;
  return registered(
    registry,
    spec.name,
    () => new Histogram({ name: spec.name, help: spec.help, labelNames: [...(spec.labelNames ?? [])], buckets: [...spec.buckets], registers: [registry] }),
  );
}

/** Results of a cache lookup, for {@link cacheLookups}. */
export type CacheLookupResult = "hit" | "miss" | "negative_hit" | "error";

/**
 * `cache_lookups_total{cache,result}`: every cache of every process counts its
 * lookups here, `cache` naming which one (profile, counter, following, fans,
 * ...), so one PromQL expression gives any cache's hit ratio.
 */
export function cacheLookups(): Counter<"cache" | "result"> {
  return counterMetric({
    name: "cache_lookups_total",
    help: "Cache lookups by cache and result: hit, miss, negative_hit (a cached 'does not exist'), error (the cache could not answer)",
    labelNames: ["cache", "result"],
  });
}

/** Counts `n` (default 1) lookups of one cache with one result: `countLookup("hit", 3)`. */
export type CacheLookupCount = (result: CacheLookupResult, n?: number) => void;

/** A {@link CacheLookupCount} for the cache named `cache` in `cache_lookups_total`. */
export function cacheLookupCounter(cache: string): CacheLookupCount {
  return (result, n = 1) => {
    if (n > 0) cacheLookups().inc({ cache, result }, n);
  };
}
