import { env, etcdSettings, grpcServerSettings, hotKeySettings, kafkaSettings, loadConfig, mysqlSettings, processSettings, redisSettings, z } from "@rs/config";
import { COUNT_CACHE_DEFAULTS } from "./adapters/redis/counter-cache.js";

/**
 * The counter cache's layout in Redis. The count service fills it and the
 * count-consumer writes changes into it, so both must agree on every key.
 */
export const countCacheSettings = {
  COUNT_KEY_PREFIX: env.string("a key prefix").default(COUNT_CACHE_DEFAULTS.keyPrefix).describe("Prefix of every counter cache key in Redis"),
  COUNT_CACHE_BUCKETS: env
    .positiveInt()
    .default(COUNT_CACHE_DEFAULTS.buckets)
    .describe("Hash buckets per (entity type, counter name); size it to about cached counters / 256 so each bucket stays a listpack"),
  COUNT_CACHE_BUCKET_FIELDS: env
    .positiveInt()
    .default(COUNT_CACHE_DEFAULTS.bucketFields)
    .describe("Most counters kept per bucket (random ones are dropped beyond it); must not exceed Redis's hash-max-listpack-entries"),
  COUNT_CACHE_TTL_MS: env.positiveInt().default(COUNT_CACHE_DEFAULTS.ttlMs).describe("Lifetime of a cache bucket from its first fill"),
  COUNT_CACHE_TTL_JITTER_MS: env
    .nonNegativeInt()
    .default(COUNT_CACHE_DEFAULTS.ttlJitterMs)
    .describe("Up to this much is added at random to each bucket's lifetime"),
};

/** The count service's settings; each key is the environment variable it comes from. */
export const countConfigSchema = z.object({
  ...processSettings,
  ...grpcServerSettings,
  ...mysqlSettings,
  ...redisSettings,
  ...etcdSettings,
  ...countCacheSettings,
  ...hotKeySettings,
  COUNT_HOT_CACHE_SIZE: env
    .nonNegativeInt()
    .default(10_000)
    .describe("Hot counters (a big account's counts) kept in process in front of Redis (HOT_KEY_TTL_MS, HOT_KEY_MIN_HITS); 0 turns it off"),
  SERVICE_NAME: env.string().default("count").describe("Name this service registers under in etcd (/services/<name>/...)"),
});

export type CountConfig = z.infer<typeof countConfigSchema>;
export const loadCountConfig = (source?: Record<string, string | undefined>) => loadConfig(countConfigSchema, source);

/** The count-consumer's settings: applies count.changed to the count store. */
export const countConsumerConfigSchema = z.object({
  ...processSettings,
  ...mysqlSettings,
  ...redisSettings,
  ...kafkaSettings,
  ...countCacheSettings,
  COUNT_CHANGED_TOPIC: env.string().default("count.changed").describe("Kafka topic of absolute counter values with versions"),
  COUNT_CONSUMER_GROUP: env.string().default("count-consumer").describe("Kafka consumer group of the count-consumer"),
});

export type CountConsumerConfig = z.infer<typeof countConsumerConfigSchema>;
export const loadCountConsumerConfig = (source?: Record<string, string | undefined>) => loadConfig(countConsumerConfigSchema, source);
