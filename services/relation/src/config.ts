import {
  env,
  etcdSettings,
  grpcServerSettings,
  hotKeySettings,
  kafkaSettings,
  loadConfig,
  mysqlSettings,
  processSettings,
  profileChangeSettings,
  redisSettings,
  z,
} from "@rs/config";
import { DEFAULT_CACHE_TTL_JITTER_MS, DEFAULT_CACHE_TTL_MS, DEFAULT_EMPTY_CACHE_TTL_MS } from "./adapters/redis/cache-ttl.js";
import { DEFAULT_FANS_TOMBSTONES, DEFAULT_FANS_WINDOW } from "./adapters/redis/fans-cache.js";
import { BACKLOG_DEFAULTS } from "./adapters/redis/backlog-gauges.js";
import { persisterSettings } from "./persister/persister.settings.js";
import { downstreamCountSettings } from "./reconciler/downstream.settings.js";

/**
 * The relation cache's layout in Redis. Every process that touches the relation
 * keys (the rpc service and the persister, which clears the pending overlay and
 * repeats the fans step) must agree on these, so they are one group.
 */
export const relationCacheSettings = {
  RELATION_KEY_PREFIX: env
    .string("a key prefix without braces")
    .refine((s) => !/[{}]/.test(s), "must not contain braces (they would move the hash tag)")
    .default("rs:rel:")
    .describe("Prefix of every relation key in Redis (following:{A}, pending:{A}, fans:{B}, ...)"),
  FANS_WINDOW: env
    .positiveInt()
    .default(DEFAULT_FANS_WINDOW)
    .describe("How many of a user's newest fans fans:{B} keeps; deeper pages come from the fans shard"),
  FANS_TOMBSTONES: env
    .positiveInt()
    .min(2, "must be at least 2")
    .default(DEFAULT_FANS_TOMBSTONES)
    .describe("Unfollow tombstones kept per fans window before the oldest are pruned"),
  CACHE_TTL_MS: env.positiveInt().default(DEFAULT_CACHE_TTL_MS).describe("Base lifetime of following:{A} and fans:{B} (one day)"),
  CACHE_TTL_JITTER_MS: env
    .nonNegativeInt()
    .default(DEFAULT_CACHE_TTL_JITTER_MS)
    .describe("Up to this much is added at random to each cache lifetime, so keys loaded together do not expire together"),
  CACHE_EMPTY_TTL_MS: env
    .positiveInt()
    .default(DEFAULT_EMPTY_CACHE_TTL_MS)
    .describe("Lifetime of following:{A} or fans:{B} loaded without rows (reads of arbitrary ids load such lists; they must not stay a day)"),
  RELATION_EVENTS_TOPIC: env.string().default("relation.events").describe("Kafka topic of follow/unfollow transitions"),
};

/** Defaults of the rpc service's own settings (named so code never repeats a bare number). */
export const RELATION_DEFAULTS = {
  FOLLOWING_CAP: 5_000,
  USER_CALL_DEADLINE_MS: 1_000,
  USER_EXISTS_CACHE_SIZE: 100_000,
  USER_EXISTS_CACHE_TTL_MS: 10 * 60 * 1000,
  PROFILE_HOT_CACHE_SIZE: 10_000,
  PROFILE_HOT_TTL_MS: 10_000,
  FANS_HOT_PAGES: 1_000,
  OUTBOX_RETRY_INTERVAL_MS: 1_000,
  OUTBOX_BATCH: 100,
  OUTBOX_LOCK_MS: 30_000,
  /** ~16 failed writes per user; with OUTBOX_MAX_USERS at most ~320 000 entries (~30 MB). */
  OUTBOX_MAX_ENTRIES_PER_USER: 32,
  OUTBOX_MAX_USERS: 10_000,
  PUBLISH_DEADLINE_MS: 1_500,
  PENDING_SWEEP_AFTER_MS: 10_000,
  PENDING_SWEEP_INTERVAL_MS: 1_000,
  PENDING_SWEEP_BATCH: 100,
  PENDING_SWEEP_LEASE_MS: 30_000,
  PENDING_SWEEP_MAX_BACKOFF_MS: 5 * 60 * 1000,
  /** Covers the first load's re-reads while the persister clears pending entries (formerly 5) and a reload after an eviction. */
  LOAD_SHARD_READS: 5,
  KAFKA_CLIENT_RETRIES: 3,
  KAFKA_PRODUCER_RETRIES: 2,
  KAFKA_RETRY_INITIAL_MS: 100,
  KAFKA_RETRY_MAX_MS: 500,
} as const;

/** The relation service's settings; each key is the environment variable it comes from. */
export const relationConfigSchema = z.object({
  ...processSettings,
  ...grpcServerSettings,
  ...mysqlSettings,
  ...redisSettings,
  ...etcdSettings,
  ...kafkaSettings,
  ...relationCacheSettings,
  ...hotKeySettings,
  ...profileChangeSettings,
  SERVICE_NAME: env.string().default("relation").describe("Name this service registers under in etcd (/services/<name>/...)"),
  USER_SERVICE_NAME: env.string().default("user").describe("etcd name of the user service (UserExists, BatchGetUsers)"),
  USER_CALL_DEADLINE_MS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.USER_CALL_DEADLINE_MS)
    .describe("Deadline of each call to the user service, retries included"),
  USER_EXISTS_CACHE_SIZE: env
    .positiveInt()
    .default(RELATION_DEFAULTS.USER_EXISTS_CACHE_SIZE)
    .describe("User ids known to exist kept in process (users are never deleted), so a follow rarely asks the user service"),
  USER_EXISTS_CACHE_TTL_MS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.USER_EXISTS_CACHE_TTL_MS)
    .describe("How long a known-existing user id is trusted without asking again"),
  PROFILE_HOT_CACHE_SIZE: env
    .nonNegativeInt()
    .default(RELATION_DEFAULTS.PROFILE_HOT_CACHE_SIZE)
    .describe(
      "Profiles of hot users kept in process for list hydration (PROFILE_HOT_TTL_MS with change notices, else HOT_KEY_TTL_MS; HOT_KEY_MIN_HITS); 0 turns it off",
    ),
  PROFILE_CHANGE_NOTICES: env
    .bool()
    .default(true)
    .describe(
      "Kept hot profiles are dropped on the user processes' change notices (PROFILE_CHANGES_CHANNEL, on the same Redis) and served for PROFILE_HOT_TTL_MS, kept only while subscribed; false: served for HOT_KEY_TTL_MS, no notices",
    ),
  PROFILE_HOT_TTL_MS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.PROFILE_HOT_TTL_MS)
    .describe(
      "How long a kept profile is served while change notices are live: the staleness bound should a notice be lost (e.g. on a Redis Cluster failover)",
    ),
  PROFILE_COALESCE: env
    .bool()
    .default(true)
    .describe("Pages hydrated in the same turn of the event loop share one BatchGetUsers call (up to its 100 ids); false: one call per page"),
  PROFILE_REFRESH_AHEAD: env
    .bool()
    .default(true)
    .describe(
      "Kept hot profiles looked up since they were loaded are reloaded in the background at 70 % of their TTL, in BatchGetUsers of up to 100; false: reloaded only when a page finds them expired",
    ),
  FANS_HOT_PAGES: env
    .nonNegativeInt()
    .default(RELATION_DEFAULTS.FANS_HOT_PAGES)
    .describe("First fans pages of hot users (a viral account's) kept in process (HOT_KEY_TTL_MS, HOT_KEY_MIN_HITS); 0 turns it off"),
  FOLLOWING_CAP: env.positiveInt().default(RELATION_DEFAULTS.FOLLOWING_CAP).describe("Most users one user may follow (product rule; bounds following:{A})"),
  KAFKA_CLIENT_ID: env.string().default("relation").describe("Kafka client id of the event producer"),
  KAFKA_CLIENT_RETRIES: env
    .nonNegativeInt()
    .default(RELATION_DEFAULTS.KAFKA_CLIENT_RETRIES)
    .describe("Retries of the Kafka client's broker requests (connect, metadata) inside one publish; bounds how long a follow waits on a broker that is gone"),
  KAFKA_PRODUCER_RETRIES: env
    .positiveInt()
    .default(RELATION_DEFAULTS.KAFKA_PRODUCER_RETRIES)
    .describe("Retries of one produce request (rides out a leader election); with KAFKA_CLIENT_RETRIES decides when a publish counts as failed and is undone"),
  KAFKA_RETRY_INITIAL_MS: env.positiveInt().default(RELATION_DEFAULTS.KAFKA_RETRY_INITIAL_MS).describe("First back-off between Kafka retries (doubles)"),
  KAFKA_RETRY_MAX_MS: env.positiveInt().default(RELATION_DEFAULTS.KAFKA_RETRY_MAX_MS).describe("Longest back-off between Kafka retries"),
  OUTBOX_RETRY_INTERVAL_MS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.OUTBOX_RETRY_INTERVAL_MS)
    .describe("How often queued undo events are retried while Kafka was unreachable"),
  OUTBOX_BATCH: env.positiveInt().default(RELATION_DEFAULTS.OUTBOX_BATCH).describe("Most queued events published per user and per pass of the outbox retrier"),
  OUTBOX_MAX_ENTRIES_PER_USER: env
    .positiveInt()
    .min(2, "must be at least 2 (a failed write queues two entries)")
    .default(RELATION_DEFAULTS.OUTBOX_MAX_ENTRIES_PER_USER)
    .describe(
      "Unpublished entries one user's outbox may hold (a failed write queues two); a write that could exceed it is refused with UNAVAILABLE before it changes anything",
    ),
  OUTBOX_MAX_USERS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.OUTBOX_MAX_USERS)
    .describe(
      "Users with unpublished entries queued beyond which writes of users with an empty outbox are refused with UNAVAILABLE (bounds the outboxes' memory with OUTBOX_MAX_ENTRIES_PER_USER)",
    ),
  OUTBOX_LOCK_MS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.OUTBOX_LOCK_MS)
    .describe("Lease of one instance on one user's outbox while publishing it, so two instances never publish the same event"),
  PUBLISH_DEADLINE_MS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.PUBLISH_DEADLINE_MS)
    .describe(
      "Longest wait for Kafka's acknowledgement of a follow/unfollow; past it the change is undone and the client hears UNAVAILABLE (keep it under the gateway's GRPC_DEADLINE_MS, 2 s, so the answer is definite)",
    ),
  PENDING_SWEEP_AFTER_MS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.PENDING_SWEEP_AFTER_MS)
    .describe(
      "A pending transition older than this may have lost its event (reply lost to a Redis stall, a crash before the publish): the sweeper publishes it again",
    ),
  PENDING_SWEEP_INTERVAL_MS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.PENDING_SWEEP_INTERVAL_MS)
    .describe("How often the pending sweeper looks for due users"),
  PENDING_SWEEP_BATCH: env.positiveInt().default(RELATION_DEFAULTS.PENDING_SWEEP_BATCH).describe("Users the pending sweeper claims per pass"),
  PENDING_SWEEP_LEASE_MS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.PENDING_SWEEP_LEASE_MS)
    .describe("How long one instance's claim on a user keeps other instances' sweepers off it"),
  PENDING_SWEEP_MAX_BACKOFF_MS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.PENDING_SWEEP_MAX_BACKOFF_MS)
    .describe("Longest wait between two republishes of a user's old pending entries (while the persister lags they stay pending; the wait doubles up to this)"),
  LOAD_SHARD_READS: env
    .positiveInt()
    .default(RELATION_DEFAULTS.LOAD_SHARD_READS)
    .describe(
      "Most shard reads one request makes to load a cold cached list (following:{A}: read again while the persister clears A's pending entries mid-load, and loaded again if evicted before use; fans:{B}: loaded again if evicted before use), then UNAVAILABLE. The one budget of both retries (it replaces LOAD_ATTEMPTS, which multiplied with 5 re-reads per load)",
    ),
  BACKLOG_SAMPLE_INTERVAL_MS: env
    .positiveInt()
    .default(BACKLOG_DEFAULTS.intervalMs)
    .describe("How often relation_outbox_entries and relation_pending_transitions are sampled from Redis (a bounded SCAN walk of the pending overlay)"),
});

export type RelationConfig = z.infer<typeof relationConfigSchema>;
export const loadRelationConfig = (source?: Record<string, string | undefined>) => loadConfig(relationConfigSchema, source);

/**
 * The relation-persister's settings (also read by the reconciler command): no
 * gRPC server, no etcd, no tokens; the relation cache layout is shared with the
 * rpc service so both address the same keys.
 */
export const persisterConfigSchema = z.object({
  ...processSettings,
  ...mysqlSettings,
  ...redisSettings,
  ...kafkaSettings,
  ...relationCacheSettings,
  ...persisterSettings,
  ...downstreamCountSettings,
});

export type PersisterConfig = z.infer<typeof persisterConfigSchema>;
export const loadPersisterConfig = (source?: Record<string, string | undefined>) => loadConfig(persisterConfigSchema, source);
