/**
 * The persister's own settings (and the reconciler's, which runs in it and as
 * a command). They are spread into `persisterConfigSchema` in ../config.ts
 * together with the relation cache layout the persister shares with the rpc
 * service; kept here so the persister's defaults live beside its code.
 */
import { env } from "@rs/config";
import { DEFAULT_BATCH_TIMEOUT_MS, DEFAULT_UNREADY_AFTER_FAILURES } from "@rs/kafka";
import { DEFAULT_LOCK_WAIT_TIMEOUT_S, DEFAULT_TXN_ATTEMPTS } from "./shard-transaction.js";

export const PERSISTER_DEFAULTS = {
  COUNT_CHANGED_TOPIC: "count.changed",
  PERSISTER_GROUP: "relation-persister",
  /** Big enough for multi-row statements, small enough to finish well under a second. */
  PERSIST_CHUNK_EVENTS: 1_000,
  PERSIST_TXN_ATTEMPTS: DEFAULT_TXN_ATTEMPTS,
  PERSIST_LOCK_WAIT_TIMEOUT_S: DEFAULT_LOCK_WAIT_TIMEOUT_S,
  /** Partition batches persisted at once: while one waits on its post-commit steps, another writes. */
  PERSIST_PARTITIONS_CONCURRENTLY: 2,
  /** A partition batch taking longer is abandoned and delivered again (a hung store must not hold a partition). */
  PERSIST_BATCH_TIMEOUT_MS: DEFAULT_BATCH_TIMEOUT_MS,
  PERSIST_UNREADY_AFTER_FAILURES: DEFAULT_UNREADY_AFTER_FAILURES,
  /** Kafka's default session (the broker accepts 6 s to 5 min). */
  KAFKA_SESSION_TIMEOUT_MS: 30_000,
  /** ~7,000 transitions of ~70 bytes per partition per fetch: a few chunks, well under a second. */
  KAFKA_MAX_BYTES_PER_PARTITION: 512 * 1024,
  RECONCILE_INTERVAL_MS: 60 * 60 * 1000,
  RECONCILE_BATCH_ROWS: 1_000,
  RECONCILE_GRACE_MS: 60_000,
  RECONCILE_PAUSE_MS: 10,
  REDIS_LOSS_CHECK_INTERVAL_MS: 5_000,
  CACHE_VERIFY_CATCH_UP_MAX_MS: 120_000,
} as const;

export const persisterSettings = {
  COUNT_CHANGED_TOPIC: env.string().default(PERSISTER_DEFAULTS.COUNT_CHANGED_TOPIC).describe("Kafka topic the persister publishes count.v1.CountChanged on"),
  COUNT_CHANGED_BATCHES: env
    .bool()
    .default(true)
    .describe(
      "count.changed as count.v1.CountChangedBatch records of up to 500 changes (header rs-schema); false: one count.v1.CountChanged per change, for consumers older than the batch form during a rolling upgrade",
    ),
  PERSISTER_GROUP: env
    .string()
    .default(PERSISTER_DEFAULTS.PERSISTER_GROUP)
    .describe("Kafka consumer group of the persister instances (they share the partitions)"),
  PERSIST_CHUNK_EVENTS: env
    .positiveInt()
    .default(PERSISTER_DEFAULTS.PERSIST_CHUNK_EVENTS)
    .describe("Most transitions written per set of shard transactions; a fetched batch is persisted in chunks of this size"),
  PERSIST_TXN_ATTEMPTS: env
    .positiveInt()
    .default(PERSISTER_DEFAULTS.PERSIST_TXN_ATTEMPTS)
    .describe("Attempts of one shard transaction on deadlock, lock wait timeout or concurrent insert before the batch is redelivered"),
  PERSIST_LOCK_WAIT_TIMEOUT_S: env
    .positiveInt()
    .default(PERSISTER_DEFAULTS.PERSIST_LOCK_WAIT_TIMEOUT_S)
    .describe("innodb_lock_wait_timeout of the persister's sessions, seconds: keeps a blocked batch far inside the session timeout"),
  PERSIST_PARTITIONS_CONCURRENTLY: env
    .positiveInt()
    .default(PERSISTER_DEFAULTS.PERSIST_PARTITIONS_CONCURRENTLY)
    .describe("Batches of different partitions one instance persists at the same time (a partition's own events stay in order)"),
  PERSIST_BATCH_TIMEOUT_MS: env
    .positiveInt()
    .default(PERSISTER_DEFAULTS.PERSIST_BATCH_TIMEOUT_MS)
    .describe(
      "Budget of one partition batch: past it the batch fails (nothing committed), the handler stops at its next step, and the batch is delivered again",
    ),
  PERSIST_UNREADY_AFTER_FAILURES: env
    .positiveInt()
    .default(PERSISTER_DEFAULTS.PERSIST_UNREADY_AFTER_FAILURES)
    .describe("Batches of one partition failing in a row (errors or budget) after which /readyz reports not ready"),
  KAFKA_SESSION_TIMEOUT_MS: env
    .positiveInt()
    .default(PERSISTER_DEFAULTS.KAFKA_SESSION_TIMEOUT_MS)
    .describe("Consumer group session timeout; heartbeats continue during a batch"),
  KAFKA_MAX_BYTES_PER_PARTITION: env
    .positiveInt()
    .default(PERSISTER_DEFAULTS.KAFKA_MAX_BYTES_PER_PARTITION)
    .describe("Most bytes fetched per partition at once: bounds a batch"),
  RECONCILE_INTERVAL_MS: env
    .nonNegativeInt()
    .default(PERSISTER_DEFAULTS.RECONCILE_INTERVAL_MS)
    .describe("How often the persister runs the reconciler (one instance per shard at a time); 0 = never"),
  RECONCILE_BATCH_ROWS: env
    .positiveInt()
    .default(PERSISTER_DEFAULTS.RECONCILE_BATCH_ROWS)
    .describe("Rows the reconciler reads per keyset step (bounds its memory)"),
  RECONCILE_GRACE_MS: env
    .nonNegativeInt()
    .default(PERSISTER_DEFAULTS.RECONCILE_GRACE_MS)
    .describe("Differences younger than this are left to the persister (in flight), not repaired"),
  RECONCILE_PAUSE_MS: env
    .nonNegativeInt()
    .default(PERSISTER_DEFAULTS.RECONCILE_PAUSE_MS)
    .describe("Pause between the reconciler's keyset steps, so it yields to the persister"),
  REDIS_LOSS_CHECK_INTERVAL_MS: env
    .nonNegativeInt()
    .default(PERSISTER_DEFAULTS.REDIS_LOSS_CHECK_INTERVAL_MS)
    .describe(
      "How often the persister compares Redis's run_id with the keyspace's marker; a restart or flush has the cached lists checked against the shards. 0 = never",
    ),
  CACHE_VERIFY_CATCH_UP_MAX_MS: env
    .positiveInt()
    .default(PERSISTER_DEFAULTS.CACHE_VERIFY_CATCH_UP_MAX_MS)
    .describe(
      "After a possible Redis data loss, longest wait for the persister to persist every event published before it, before the cached lists are checked anyway",
    ),
};
