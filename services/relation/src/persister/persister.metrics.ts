/**
 * Prometheus metrics of the persister, in the process registry. Lag per
 * partition is `kafka_consumergroup_lag` (set by the batch consumer); these add
 * the batch sizes, how long persisting takes, and how old events are once
 * written. A Kafka batch (one partition's fetched records) is persisted in
 * chunks of at most PERSIST_CHUNK_EVENTS transitions: `batch_*` are per
 * batch, `batch_events` and `persist_seconds` per chunk.
 * Looked up before being created, so two persisters in one process (tests)
 * share them.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import { metricsRegistry } from "@rs/runtime";

function histogram<L extends string>(registry: Registry, name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
  return (registry.getSingleMetric(name) as Histogram<L> | undefined) ?? new Histogram({ name, help, buckets, labelNames, registers: [registry] });
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

const SIZE_BUCKETS = [1, 5, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface PersisterMetrics {
  readonly batchSize: Histogram;
  readonly batchSeconds: Histogram;
  readonly batchEvents: Histogram;
  readonly persistSeconds: Histogram<"stage">;
  readonly eventLagSeconds: Histogram;
  readonly events: Counter<"outcome">;
  readonly transitions: Counter<"side">;
  readonly eventsApplied: Counter<"side">;
  readonly txnRetries: Counter<"errno">;
  readonly countUnderflows: Counter;
}

export function persisterMetrics(registry: Registry = metricsRegistry): PersisterMetrics {
  return {
    batchSize: histogram(registry, "relation_persister_batch_size", "Records per Kafka batch handled (one partition's fetch)", SIZE_BUCKETS),
    batchSeconds: histogram(
      registry,
      "relation_persister_batch_seconds",
      "Time to persist one Kafka batch, all its chunks and their Redis steps and publishes",
      SECONDS_BUCKETS,
    ),
    batchEvents: histogram(registry, "relation_persister_batch_events", "Events per persisted chunk of a Kafka batch", SIZE_BUCKETS),
    persistSeconds: histogram(
      registry,
      "relation_persister_persist_seconds",
      "Time to persist one chunk, by stage: shards (all shard transactions), redis (pending + fans steps), publish (count.changed), total",
      SECONDS_BUCKETS,
      ["stage"],
    ),
    eventLagSeconds: histogram(registry, "relation_persister_event_lag_seconds", "From an event's Kafka timestamp to its shard commit", LAG_BUCKETS),
    events: counter(registry, "relation_persister_events_total", "Events consumed, by outcome: persisted, invalid (skipped)", ["outcome"]),
    transitions: counter(registry, "relation_persister_transitions_total", "Active/inactive edge transitions applied, by side (follows, fans)", ["side"]),
    eventsApplied: counter(
      registry,
      "relation_persister_events_applied_total",
      "Events applied to an edge row, by side (replays and duplicates are not applied)",
      ["side"],
    ),
    txnRetries: counter(registry, "relation_persister_txn_retries_total", "Shard transactions run again, by MySQL error number", ["errno"]),
    countUnderflows: counter(
      registry,
      "relation_persister_count_underflows_total",
      "Counts that would have gone below zero (clamped; the reconciler repairs them)",
    ),
  };
}
