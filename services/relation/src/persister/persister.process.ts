/**
 * The relation-persister process: consumes relation.events in batches (one
 * consumer group; instances share the partitions), persists them
 * (relation-persister.ts) and commits offsets only after that; runs the
 * reconciler periodically. Shutdown: not ready → stop the reconciler → stop
 * consuming (the batch in flight finishes and commits) → flush the producer →
 * close Redis and the pools.
 */
import { openRedis, openShardedMysql, startWorkerProcess, type RunningProcess } from "@rs/bootstrap";
import { createIdempotentProducer, createKafka, runBatchConsumer, type BatchConsumer } from "@rs/kafka";
import type { Logger } from "@rs/logger";
import { redisReadiness } from "@rs/redis";
import { FansCache } from "../adapters/redis/fans-cache.js";
import { RelationCache } from "../adapters/redis/relation-cache.js";
import { RelationScripts } from "../adapters/redis/relation-scripts.js";
import { RelationReadsRepository } from "../adapters/mysql/relation-reads.repository.js";
import { checkCachedLists } from "../reconciler/cached-lists-check.js";
import { RedisLossWatch } from "./redis-loss-watch.js";
import type { PersisterConfig } from "../config.js";
import { startPeriodicReconcile, type PeriodicReconcile } from "../reconciler/periodic-reconcile.js";
import { downstreamStores } from "../reconciler/downstream-stores.js";
import { Reconciler } from "../reconciler/reconciler.js";
import { CountChangedPublisher } from "./count-changed.publisher.js";
import type { EdgeEvent } from "./edge-fold.js";
import { persisterBatchHandler } from "./persister-batch.handler.js";
import { persisterMetrics } from "./persister.metrics.js";
import { RelationPersister } from "./relation-persister.js";

const PROCESS_NAME = "relation-persister";

/** What an in-process persister exposes to tests and benchmarks. */
export interface PersisterInternals {
  readonly persister: RelationPersister;
  readonly consumer: BatchConsumer;
  readonly reconciler: Reconciler;
  readonly periodic: PeriodicReconcile;
  readonly lossWatch: RedisLossWatch;
}

export interface StartPersisterOptions {
  readonly logger?: Logger;
  /** Called after each chunk is persisted (lag measurements). */
  readonly onPersisted?: (events: readonly EdgeEvent[], kafkaTimestampsMs: readonly number[]) => void;
}

/** Starts a relation-persister with a validated config. */
export async function startPersister(
  config: PersisterConfig,
  opts: StartPersisterOptions = {},
): Promise<RunningProcess & { readonly internals: PersisterInternals }> {
  const running = await startWorkerProcess<PersisterInternals>({
    name: PROCESS_NAME,
    settings: config,
    logger: opts.logger,
    async setup({ logger, lifecycle, instanceId }) {
      const mysql = openShardedMysql({ logger, lifecycle }, config);
      const redis = await openRedis({ logger, lifecycle }, config.REDIS_URL, PROCESS_NAME);

      const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${PROCESS_NAME}-${instanceId}`, logger });
      const producer = await createIdempotentProducer(kafka);
      lifecycle.add("flush count.changed producer", () => producer.disconnect());

      const cacheOpts = {
        keyPrefix: config.RELATION_KEY_PREFIX,
        ttlMs: config.CACHE_TTL_MS,
        ttlJitterMs: config.CACHE_TTL_JITTER_MS,
        emptyTtlMs: config.CACHE_EMPTY_TTL_MS,
      };
      const cache = new RelationCache(redis, cacheOpts);
      const fans = new FansCache(redis, { ...cacheOpts, windowSize: config.FANS_WINDOW, tombstoneLimit: config.FANS_TOMBSTONES });
      const counts = new CountChangedPublisher(producer, config.COUNT_CHANGED_TOPIC, { batches: config.COUNT_CHANGED_BATCHES });
      const metrics = persisterMetrics();
      const txn = { txnAttempts: config.PERSIST_TXN_ATTEMPTS, lockWaitTimeoutS: config.PERSIST_LOCK_WAIT_TIMEOUT_S };
      const persister = new RelationPersister({ mysql, cache, fans, counts, logger, metrics, ...txn });
      const downstream = downstreamStores(config, mysql, redis, logger);
      const reconciler = new Reconciler({ mysql, redis, cache, persister, counts, logger, downstream, ...txn });

      const consumer = await runBatchConsumer({
        kafka,
        groupId: config.PERSISTER_GROUP,
        topics: config.RELATION_EVENTS_TOPIC,
        // A new group starts at the oldest event: nothing is ever skipped, and replays are harmless.
        fromBeginning: true,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        maxBytesPerPartition: config.KAFKA_MAX_BYTES_PER_PARTITION,
        partitionsConsumedConcurrently: config.PERSIST_PARTITIONS_CONCURRENTLY,
        batchTimeoutMs: config.PERSIST_BATCH_TIMEOUT_MS,
        unreadyAfterFailures: config.PERSIST_UNREADY_AFTER_FAILURES,
        logger,
        handle: persisterBatchHandler({ persister, chunkEvents: config.PERSIST_CHUNK_EVENTS, logger, metrics, onPersisted: opts.onPersisted }),
      });
      lifecycle.add("stop consuming", () => consumer.stop());

      const periodic = startPeriodicReconcile(reconciler, {
        intervalMs: config.RECONCILE_INTERVAL_MS,
        logger,
        options: { batchRows: config.RECONCILE_BATCH_ROWS, graceMs: config.RECONCILE_GRACE_MS, pauseMs: config.RECONCILE_PAUSE_MS },
      });
      lifecycle.add("stop the reconciler", () => periodic.stop());

      const lossWatch = new RedisLossWatch({
        redis,
        keys: cache.keys,
        scripts: new RelationScripts(redis),
        intervalMs: config.REDIS_LOSS_CHECK_INTERVAL_MS,
        readLag: () => consumer.readLag(),
        catchUpMaxMs: config.CACHE_VERIFY_CATCH_UP_MAX_MS,
        rebuildIndexes: async () => (await cache.pendingIndex.rebuild(Date.now())) + (await cache.outbox.rebuildOutboxIndex()),
        verify: (signal, nodes) =>
          checkCachedLists({ redis, keys: cache.keys, store: new RelationReadsRepository(mysql), pending: cache, logger }, { signal, nodes }),
        logger,
      });
      if (config.REDIS_LOSS_CHECK_INTERVAL_MS > 0) lossWatch.start();
      lifecycle.add("stop the Redis loss watch", () => lossWatch.stop());

      return {
        checks: [{ name: "mysql-shards", check: () => mysql.ping() }, redisReadiness(redis), consumer.readiness],
        exposed: { persister, consumer, reconciler, periodic, lossWatch },
      };
    },
  });
  return { ...running, internals: running.exposed as PersisterInternals };
}
