/**
 * Where the copies of the counts live in Redis, for the reconciler (in the
 * persister and as a command) that repairs them: the count service's counter
 * cache layout (the same variables as the count service and count-consumer,
 * which must agree on every key) and the user service's key prefix (profile
 * cache entries it invalidates). Spread into `persisterConfigSchema`.
 */
import { env } from "@rs/config";
import { countCacheSettings } from "@rs/count";

export const DEFAULT_USER_REDIS_KEY_PREFIX = "user:";

export const downstreamCountSettings = {
  ...countCacheSettings,
  USER_REDIS_KEY_PREFIX: env
    .string("a key prefix")
    .default(DEFAULT_USER_REDIS_KEY_PREFIX)
    .describe("The user service's REDIS_KEY_PREFIX: the reconciler invalidates the cached profiles whose counters it repairs under it"),
};
