/**
 * The relation rpc process: Redis (write front and caches), the shards (read
 * side), the Kafka producer of relation events, the user service client, the
 * outbox drainer, and the relation.v1 gRPC service registered in etcd.
 */
import { randomBytes } from "node:crypto";
import { openRedis, openShardedMysql, startRpcProcess, type RunningProcess } from "@rs/bootstrap";
import { createServiceClient, withSafeDecoding } from "@rs/grpc";
import { protoFiles, relationV1, userV1 } from "@rs/idl";
import { createIdempotentProducer, createKafka } from "@rs/kafka";
import type { Logger } from "@rs/logger";
import { hotKeysOf } from "@rs/config";
import { redisReadiness } from "@rs/redis";
import { RelationReadsRepository } from "./adapters/mysql/relation-reads.repository.js";
import { RelationEventsPublisher } from "./adapters/kafka/relation-events.publisher.js";
import { startBacklogGauges } from "./adapters/redis/backlog-gauges.js";
import { FansCache } from "./adapters/redis/fans-cache.js";
import { OutboxBounds } from "./adapters/redis/outbox-bounds.js";
import { checkFollowingLayout, RelationCache } from "./adapters/redis/relation-cache.js";
import { UserServiceDirectory } from "./adapters/user/user-service-directory.js";
import { RedisProfileChangeNotices } from "./adapters/redis/profile-change-notices.js";
import type { RelationConfig } from "./config.js";
import { FansWindow } from "./domain/fans-window.js";
import { FollowingLoader } from "./domain/following-loader.js";
import { OutboxDrainer } from "./domain/outbox-drainer.js";
import { PendingSweeper } from "./domain/pending-sweeper.js";
import { RelationLists } from "./domain/relation-lists.js";
import { RelationQueries } from "./domain/relation-queries.js";
import { RelationWriter } from "./domain/relation-writer.js";
import { relationHandlers } from "./grpc/relation.grpc.js";

/** How long start-up waits for Redis before giving up. */
const REDIS_READY_TIMEOUT_MS = 10_000;
const OWNER_TOKEN_BYTES = 8;

/** What an in-process instance exposes to tests. */
export interface RelationServiceInternals {
  readonly cache: RelationCache;
  readonly fans: FansCache;
  readonly drainer: OutboxDrainer;
  readonly writer: RelationWriter;
  readonly users: UserServiceDirectory;
  readonly logger: Logger;
}

/** Starts the relation service (gRPC on GRPC_PORT, admin on ADMIN_PORT); `stop()` shuts it down in order. */
export function startRelationService(config: RelationConfig): Promise<RunningProcess> {
  return startRpcProcess<RelationServiceInternals>({
    name: config.SERVICE_NAME,
    settings: config,
    async setup({ logger, lifecycle, etcd }) {
      const redis = await openRedis({ logger, lifecycle }, config.REDIS_URL, `${config.SERVICE_NAME}-cache`, REDIS_READY_TIMEOUT_MS);
      const mysql = openShardedMysql({ logger, lifecycle }, config);

      // Bounded retries: a publish must succeed or fail within a client's deadline;
      // a failed one is undone and queued, not retried behind the client's back.
      const retry = { initialRetryTime: config.KAFKA_RETRY_INITIAL_MS, maxRetryTime: config.KAFKA_RETRY_MAX_MS };
      const kafka = createKafka({
        brokers: config.KAFKA_BROKERS,
        clientId: config.KAFKA_CLIENT_ID,
        logger,
        retry: { ...retry, retries: config.KAFKA_CLIENT_RETRIES },
      });
      const producer = await createIdempotentProducer(kafka, {
        retries: config.KAFKA_PRODUCER_RETRIES,
        initialRetryTimeMs: config.KAFKA_RETRY_INITIAL_MS,
        maxRetryTimeMs: config.KAFKA_RETRY_MAX_MS,
      });
      lifecycle.add("flush kafka producer", () => producer.disconnect());

      const userClient = createServiceClient(userV1.UserServiceClient, {
        target: { service: config.USER_SERVICE_NAME, etcd },
        deadlineMs: config.USER_CALL_DEADLINE_MS,
        logger,
      });
      lifecycle.add("close user client", () => userClient.close());

      const ttl = {
        keyPrefix: config.RELATION_KEY_PREFIX,
        ttlMs: config.CACHE_TTL_MS,
        ttlJitterMs: config.CACHE_TTL_JITTER_MS,
        emptyTtlMs: config.CACHE_EMPTY_TTL_MS,
      };
      const cache = new RelationCache(redis, ttl);
      await checkFollowingLayout(redis, config.FOLLOWING_CAP, logger);
      const fans = new FansCache(redis, { ...ttl, windowSize: config.FANS_WINDOW, tombstoneLimit: config.FANS_TOMBSTONES });
      const store = new RelationReadsRepository(mysql);
      const changes =
        config.PROFILE_CHANGE_NOTICES && config.PROFILE_HOT_CACHE_SIZE > 0
          ? new RedisProfileChangeNotices(config.REDIS_URL, config.PROFILE_CHANGES_CHANNEL, logger, `${config.SERVICE_NAME}-profile-changes`)
          : undefined;
      if (changes) lifecycle.add("close profile change notices", () => changes.close());
      const users = new UserServiceDirectory(userClient, {
        existsCacheSize: config.USER_EXISTS_CACHE_SIZE,
        existsCacheTtlMs: config.USER_EXISTS_CACHE_TTL_MS,
        // with change notices a kept profile is dropped when it changes, so it may be kept longer (ADR 28)
        hotProfiles: { ...hotKeysOf(config, config.PROFILE_HOT_CACHE_SIZE), ...(changes ? { ttlMs: config.PROFILE_HOT_TTL_MS } : {}) },
        coalesce: config.PROFILE_COALESCE,
        refreshAhead: config.PROFILE_REFRESH_AHEAD,
        onRefreshError: (err) => logger.debug({ err }, "background reload of hot profiles failed; they expire at their TTL"),
        changes,
      });
      const publisher = new RelationEventsPublisher(producer, config.RELATION_EVENTS_TOPIC);

      const drainer = new OutboxDrainer({
        outbox: cache.outbox,
        fans,
        publisher,
        owner: `${config.SERVICE_NAME}-${randomBytes(OWNER_TOKEN_BYTES).toString("hex")}`,
        lockMs: config.OUTBOX_LOCK_MS,
        batch: config.OUTBOX_BATCH,
        intervalMs: config.OUTBOX_RETRY_INTERVAL_MS,
        bounds: new OutboxBounds(redis, cache.keys, { maxUsers: config.OUTBOX_MAX_USERS, maxEntriesPerUser: config.OUTBOX_MAX_ENTRIES_PER_USER }),
        notePublished: (t) => cache.markPublished(t.from, t.to, t.version),
        logger,
      });
      drainer.start();
      // after the gRPC drain (steps run in reverse): no request can queue anything any more
      lifecycle.add("stop outbox drainer", () => drainer.stop());

      const sweep = {
        sweepAfterMs: config.PENDING_SWEEP_AFTER_MS,
        maxBackoffMs: config.PENDING_SWEEP_MAX_BACKOFF_MS,
      };
      const sweeper = new PendingSweeper({
        ...sweep,
        index: cache.pendingIndex,
        pending: cache,
        publisher,
        intervalMs: config.PENDING_SWEEP_INTERVAL_MS,
        batch: config.PENDING_SWEEP_BATCH,
        leaseMs: config.PENDING_SWEEP_LEASE_MS,
        logger,
      });
      sweeper.start();
      lifecycle.add("stop pending sweeper", () => sweeper.stop());

      const backlog = startBacklogGauges({ redis, keys: cache.keys, logger, intervalMs: config.BACKLOG_SAMPLE_INTERVAL_MS });
      lifecycle.add("stop backlog gauges", () => backlog.stop());

      const loader = new FollowingLoader(cache, store, config.LOAD_SHARD_READS);
      const fansWindow = new FansWindow(fans, store, config.LOAD_SHARD_READS, hotKeysOf(config, config.FANS_HOT_PAGES));
      const queries = new RelationQueries(cache, loader);
      const writer = new RelationWriter({
        cache,
        fans,
        outbox: cache.outbox,
        loader,
        users,
        fansPages: fansWindow,
        publisher,
        drainer,
        pendingIndex: cache.pendingIndex,
        sweepAfterMs: sweep.sweepAfterMs,
        publishDeadlineMs: config.PUBLISH_DEADLINE_MS,
        followingCap: config.FOLLOWING_CAP,
        logger,
      });
      const lists = new RelationLists({ cache, loader, fansWindow, queries, store, users });

      return {
        services: [{ definition: withSafeDecoding(relationV1.RelationServiceService), implementation: relationHandlers({ writer, queries, lists }) }],
        reflectionProtoFiles: [protoFiles.relation],
        checks: [redisReadiness(redis), { name: "mysql", check: () => mysql.ping() }],
        exposed: { cache, fans, drainer, writer, users, logger },
      };
    },
  });
}
