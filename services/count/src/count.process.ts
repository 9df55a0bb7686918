/**
 * The count rpc process: counters from the count store (MySQL, the source of
 * truth) behind the bucketed Redis cache, served as count.v1 and registered in
 * etcd under SERVICE_NAME.
 */
import { openRedis, openShardedMysql, startRpcProcess, type RunningProcess } from "@rs/bootstrap";
import { withSafeDecoding } from "@rs/grpc";
import { countV1, protoFiles } from "@rs/idl";
import type { Logger } from "@rs/logger";
import { hotKeysOf } from "@rs/config";
import { redisReadiness } from "@rs/redis";
import { HotCounters } from "./adapters/memory/hot-counters.js";
import { CountersRepository } from "./adapters/mysql/counters.repository.js";
import { ShardCountsRepository } from "./adapters/mysql/shard-counts.repository.js";
import { CounterCache } from "./adapters/redis/counter-cache.js";
import type { CountConfig } from "./config.js";
import { countReadsMetrics, hotCounterMetrics } from "./count.metrics.js";
import { CountReadsService } from "./domain/count-reads.service.js";
import { countHandlers } from "./grpc/count.grpc.js";

/** What an in-process instance exposes to tests. */
export interface CountServiceInternals {
  readonly reads: CountReadsService;
  readonly cache: CounterCache;
  readonly store: CountersRepository;
}

/** The cache settings as the adapter takes them (shared by the service and the consumer). */
export function counterCacheOptions(
  c: Pick<CountConfig, "COUNT_KEY_PREFIX" | "COUNT_CACHE_BUCKETS" | "COUNT_CACHE_BUCKET_FIELDS" | "COUNT_CACHE_TTL_MS" | "COUNT_CACHE_TTL_JITTER_MS">,
) {
  return {
    keyPrefix: c.COUNT_KEY_PREFIX,
    buckets: c.COUNT_CACHE_BUCKETS,
    bucketFields: c.COUNT_CACHE_BUCKET_FIELDS,
    ttlMs: c.COUNT_CACHE_TTL_MS,
    ttlJitterMs: c.COUNT_CACHE_TTL_JITTER_MS,
  };
}

/** Warns when buckets may outgrow Redis's listpack limit (they would still work, with more memory). */
export async function checkListpackLimit(cache: CounterCache, bucketFields: number, logger: Logger): Promise<void> {
  const limit = await cache.listpackLimit();
  if (limit === undefined) logger.info("could not read hash-max-listpack-entries; make sure it is at least COUNT_CACHE_BUCKET_FIELDS");
  else if (limit < bucketFields) {
    logger.warn({ limit, bucketFields }, "COUNT_CACHE_BUCKET_FIELDS exceeds Redis's hash-max-listpack-entries: full buckets will not be listpacks");
  }
}

/** Starts the count service (gRPC on GRPC_PORT, admin on ADMIN_PORT); `stop()` shuts it down in order. */
export async function startCountService(
  config: CountConfig,
  opts: { logger?: Logger } = {},
): Promise<RunningProcess & { readonly internals: CountServiceInternals }> {
  const running = await startRpcProcess<CountServiceInternals>({
    name: config.SERVICE_NAME,
    settings: config,
    logger: opts.logger,
    async setup({ logger, lifecycle }) {
      const mysql = openShardedMysql({ logger, lifecycle }, config);
      const redis = await openRedis({ logger, lifecycle }, config.REDIS_URL, `${config.SERVICE_NAME}-cache`);

      const cache = new CounterCache(redis, counterCacheOptions(config));
      await checkListpackLimit(cache, config.COUNT_CACHE_BUCKET_FIELDS, logger);
      const store = new CountersRepository(mysql, logger);
      const authority = new ShardCountsRepository(mysql, logger);
      const hotCache = new HotCounters(cache, hotKeysOf(config, config.COUNT_HOT_CACHE_SIZE), hotCounterMetrics);
      const reads = new CountReadsService({ store, cache: hotCache, logger, observer: countReadsMetrics, authority });

      return {
        services: [{ definition: withSafeDecoding(countV1.CountServiceService), implementation: countHandlers(reads) }],
        reflectionProtoFiles: [protoFiles.count],
        checks: [{ name: "mysql-shards", check: () => mysql.ping() }, redisReadiness(redis)],
        exposed: { reads, cache, store },
      };
    },
  });
  return { ...running, internals: running.exposed as CountServiceInternals };
}
