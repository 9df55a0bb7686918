/**
 * The user-consumer: applies count.changed (absolute values with versions) to
 * the users' redundant follow_count / follower_count columns and invalidates
 * their cached profiles. At-least-once delivery is fine: a version not newer
 * than the row's changes nothing.
 */
import { openRedis, openShardedMysql, startWorkerProcess, type RunningProcess } from "@rs/bootstrap";
import { createKafka, runBatchConsumer, type ConsumedBatch } from "@rs/kafka";
import type { Logger } from "@rs/logger";
import { redisReadiness } from "@rs/redis";
import { decodeCountChanged, newestPerCounter } from "./adapters/kafka/count-changed.codec.js";
import { UsersRepository } from "./adapters/mysql/users.repository.js";
import { RedisProfileCache } from "./adapters/redis/profile-cache.js";
import type { UserConsumerConfig } from "./config.js";
import type { CountChange } from "./domain/profile.js";
import { CountChangesService } from "./domain/count-changes.service.js";

const PROCESS_NAME = "user-consumer";

/** What an in-process consumer exposes to tests. */
export interface UserConsumerInternals {
  readonly counts: CountChangesService;
}

/**
 * Applies one batch: decodes it, keeps the newest version of each counter and
 * applies those (each a one-row update in the user's shard), at most
 * `concurrency` at a time so a large batch waits for pooled connections instead
 * of overflowing the pool's queue. Throws if any apply fails, so the batch is
 * delivered again; unreadable records are logged and skipped.
 */
export async function applyCountChangedBatch(
  batch: Pick<ConsumedBatch, "topic" | "partition" | "messages">,
  apply: (change: CountChange) => Promise<unknown>,
  logger: Logger,
  concurrency: number,
): Promise<void> {
  const changes: CountChange[] = [];
  for (const message of batch.messages) {
    const decoded = decodeCountChanged(message);
    changes.push(...decoded.changes);
    for (const { offset, reason } of decoded.refused) {
      logger.error({ topic: batch.topic, partition: batch.partition, offset, reason }, "skipping an unreadable count.changed change");
    }
  }
  const queue = newestPerCounter(changes);
  let next = 0;
  const worker = async () => {
    while (next < queue.length) await apply(queue[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
}

/** Starts the user-consumer with a validated config. */
export async function startUserConsumer(
  config: UserConsumerConfig,
  opts: { logger?: Logger } = {},
): Promise<RunningProcess & { readonly internals: UserConsumerInternals }> {
  const running = await startWorkerProcess<UserConsumerInternals>({
    name: PROCESS_NAME,
    settings: config,
    logger: opts.logger,
    async setup({ logger, lifecycle, instanceId }) {
      const sharded = openShardedMysql({ logger, lifecycle }, config);
      const redis = await openRedis({ logger, lifecycle }, config.REDIS_URL, PROCESS_NAME);

      const store = new UsersRepository(sharded);
      const cache = RedisProfileCache.fromSettings(redis, config);
      const counts = new CountChangesService({ store, cache });

      const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${PROCESS_NAME}-${instanceId}`, logger });
      const consumer = await runBatchConsumer({
        kafka,
        groupId: config.USER_CONSUMER_GROUP,
        topics: config.COUNT_CHANGED_TOPIC,
        // Values are absolute and versioned: a new group reads the whole topic and ends up current.
        fromBeginning: true,
        logger,
        // As many updates in flight as there are pooled connections per shard.
        handle: (batch) => applyCountChangedBatch(batch, (change) => counts.applyCountChanged(change), logger, config.MYSQL_POOL_SIZE),
      });
      lifecycle.add("stop consuming", () => consumer.stop());

      return {
        checks: [{ name: "mysql-shards", check: () => sharded.ping() }, redisReadiness(redis), consumer.readiness],
        exposed: { counts },
      };
    },
  });
  return { ...running, internals: running.exposed as UserConsumerInternals };
}
