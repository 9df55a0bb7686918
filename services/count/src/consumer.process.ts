/**
 * The count-consumer: applies count.changed (absolute values with versions)
 * to the count store and its cache. At-least-once delivery is fine: a version
 * not newer than the stored one changes nothing.
 */
import { openRedis, openShardedMysql, startWorkerProcess, type RunningProcess } from "@rs/bootstrap";
import { createKafka, runBatchConsumer, type ConsumedBatch } from "@rs/kafka";
import type { Logger } from "@rs/logger";
import { redisReadiness } from "@rs/redis";
import { decodeCountChanged } from "./adapters/kafka/count-changed.codec.js";
import { CountersRepository } from "./adapters/mysql/counters.repository.js";
import { CounterCache } from "./adapters/redis/counter-cache.js";
import type { CountConsumerConfig } from "./config.js";
import { checkListpackLimit, counterCacheOptions } from "./count.process.js";
import { CountChangesService } from "./domain/count-changes.service.js";
import type { CounterChange } from "./domain/counter-key.js";

const PROCESS_NAME = "count-consumer";

/** What an in-process consumer exposes to tests. */
export interface CountConsumerInternals {
  readonly changes: CountChangesService;
}

/** Decodes a batch (unreadable records are logged and skipped) and applies it; throws to have it delivered again. */
export async function applyCountChangedBatch(
  batch: Pick<ConsumedBatch, "topic" | "partition" | "messages">,
  changes: CountChangesService,
  logger: Logger,
): Promise<void> {
  const decoded: CounterChange[] = [];
  for (const m of batch.messages) {
    const d = decodeCountChanged(m);
    decoded.push(...d.changes);
    for (const { offset, reason } of d.refused) {
      logger.error({ topic: batch.topic, partition: batch.partition, offset, reason }, "skipping an unreadable count.changed change");
    }
  }
  await changes.apply(decoded);
}

/** Starts the count-consumer with a validated config. */
export async function startCountConsumer(
  config: CountConsumerConfig,
  opts: { logger?: Logger } = {},
): Promise<RunningProcess & { readonly internals: CountConsumerInternals }> {
  const running = await startWorkerProcess<CountConsumerInternals>({
    name: PROCESS_NAME,
    settings: config,
    logger: opts.logger,
    async setup({ logger, lifecycle, instanceId }) {
      const mysql = openShardedMysql({ logger, lifecycle }, config);
      const redis = await openRedis({ logger, lifecycle }, config.REDIS_URL, PROCESS_NAME);

      const cache = new CounterCache(redis, counterCacheOptions(config));
      await checkListpackLimit(cache, config.COUNT_CACHE_BUCKET_FIELDS, logger);
      const changes = new CountChangesService({ store: new CountersRepository(mysql, logger), cache });

      const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${PROCESS_NAME}-${instanceId}`, logger });
      const consumer = await runBatchConsumer({
        kafka,
        groupId: config.COUNT_CONSUMER_GROUP,
        topics: config.COUNT_CHANGED_TOPIC,
        // Values are absolute and versioned: a new group reads the whole topic and ends up current.
        fromBeginning: true,
        logger,
        handle: (batch) => applyCountChangedBatch(batch, changes, logger),
      });
      lifecycle.add("stop consuming", () => consumer.stop());

      return {
        checks: [{ name: "mysql-shards", check: () => mysql.ping() }, redisReadiness(redis), consumer.readiness],
        exposed: { changes },
      };
    },
  });
  return { ...running, internals: running.exposed as CountConsumerInternals };
}
