import {
  env,
  etcdSettings,
  grpcServerSettings,
  hotKeySettings,
  jwtSettings,
  kafkaSettings,
  loadConfig,
  mysqlSettings,
  processSettings,
  profileChangeSettings,
  redisSettings,
  withJwtKeyRules,
  z,
} from "@rs/config";
import { REVOCATION_KEY_PREFIX } from "@rs/auth";
import { DEFAULT_WORKER_PREFIX } from "@rs/ids";

/** bcrypt accepts costs 4..31; below 10 is too cheap for production, above ~14 too slow for a login. */
const BCRYPT_MIN_COST = 4;
const BCRYPT_MAX_COST = 31;
export const BCRYPT_COST_DEFAULT = 10;
/** One day. */
export const PROFILE_CACHE_TTL_SECONDS_DEFAULT = 24 * 60 * 60;
export const PROFILE_CACHE_TTL_JITTER_DEFAULT = 0.1;
/** Unknown ids are remembered briefly: long enough to absorb a burst, short enough not to matter. */
export const PROFILE_NEGATIVE_TTL_SECONDS_DEFAULT = 60;
export const USER_BLOOM_EXPECTED_USERS_DEFAULT = 1_000_000;
export const USER_BLOOM_FALSE_POSITIVE_RATE_DEFAULT = 0.001;
/** Far longer than a register takes (bcrypt is done before the claim), so only abandoned claims are taken over. */
export const USERNAME_CLAIM_GRACE_SECONDS_DEFAULT = 30;
export const ID_LEASE_TTL_SECONDS_DEFAULT = 10;

const ratio = () => z.coerce.number({ error: "must be a number" }).gt(0, "must be > 0").lt(1, "must be < 1");

/** Settings the user service and its consumer share: the stores and the profile cache. */
const userStoreSettings = {
  ...mysqlSettings,
  ...redisSettings,
  ...profileChangeSettings,
  REDIS_KEY_PREFIX: env.string().default("user:").describe("Prefix of every Redis key of the user service (profile cache, bloom filter)"),
  PROFILE_CACHE_TTL_SECONDS: env.positiveInt().default(PROFILE_CACHE_TTL_SECONDS_DEFAULT).describe("Base lifetime of a cached profile"),
  PROFILE_CACHE_TTL_JITTER: z.coerce
    .number({ error: "must be a number" })
    .min(0, "must be >= 0")
    .lt(1, "must be < 1")
    .default(PROFILE_CACHE_TTL_JITTER_DEFAULT)
    .describe("Fraction of the TTL a cached profile's lifetime moves at random either way, so entries written together do not expire together"),
  PROFILE_NEGATIVE_TTL_SECONDS: env.positiveInt().default(PROFILE_NEGATIVE_TTL_SECONDS_DEFAULT).describe("Lifetime of a cached 'no such user' answer"),
};

/** The user service's settings; each key is the environment variable it comes from. */
export const userConfigSchema = withJwtKeyRules(
  z.object({
    ...processSettings,
    ...grpcServerSettings,
    ...etcdSettings,
    ...jwtSettings,
    ...userStoreSettings,
    ...hotKeySettings,
    PROFILE_HOT_CACHE_SIZE: env
      .nonNegativeInt()
      .default(10_000)
      .describe("Hot profiles (a big account's) kept in process in front of Redis (HOT_KEY_TTL_MS, HOT_KEY_MIN_HITS); 0 turns it off"),
    SERVICE_NAME: env.string().default("user").describe("Name this instance registers under in etcd (/services/<name>/)"),
    BCRYPT_COST: z.coerce
      .number({ error: "must be an integer" })
      .int("must be an integer")
      .min(BCRYPT_MIN_COST, `must be ${BCRYPT_MIN_COST}..${BCRYPT_MAX_COST}`)
      .max(BCRYPT_MAX_COST, `must be ${BCRYPT_MIN_COST}..${BCRYPT_MAX_COST}`)
      .default(BCRYPT_COST_DEFAULT)
      .describe("bcrypt cost factor of stored passwords (each +1 doubles the work of a login); hashes of another cost are rehashed on login"),
    TOKEN_REVOCATION_PREFIX: env
      .string()
      .default(REVOCATION_KEY_PREFIX)
      .describe("Redis key prefix of revoked token ids; every verifier (gateway) must use the same"),
    ID_WORKER_PREFIX: env
      .string()
      .default(DEFAULT_WORKER_PREFIX)
      .describe("etcd prefix the id worker number is leased under; shared by every process that mints ids"),
    ID_LEASE_TTL_SECONDS: env.positiveInt().default(ID_LEASE_TTL_SECONDS_DEFAULT).describe("TTL of the etcd lease behind the id worker number"),
    USER_BLOOM_EXPECTED_USERS: env
      .positiveInt()
      .default(USER_BLOOM_EXPECTED_USERS_DEFAULT)
      .describe("Users the existence bloom filter is sized for; beyond it false positives grow (never false negatives)"),
    USER_BLOOM_FALSE_POSITIVE_RATE: ratio()
      .default(USER_BLOOM_FALSE_POSITIVE_RATE_DEFAULT)
      .describe("Target false-positive rate of the existence bloom filter at the expected size"),
    USERNAME_CLAIM_GRACE_SECONDS: env
      .positiveInt()
      .default(USERNAME_CLAIM_GRACE_SECONDS_DEFAULT)
      .describe("Age after which an unconfirmed username claim counts as abandoned and may be taken over"),
  }),
  ["issue"],
);

export type UserConfig = z.infer<typeof userConfigSchema>;
export const loadUserConfig = (source?: Record<string, string | undefined>): UserConfig => loadConfig(userConfigSchema, source);

/** The user-consumer's settings: applies count.changed to the users' redundant counters. */
export const userConsumerConfigSchema = z.object({
  ...processSettings,
  ...kafkaSettings,
  ...userStoreSettings,
  COUNT_CHANGED_TOPIC: env.string().default("count.changed").describe("Kafka topic of absolute counter values with versions"),
  USER_CONSUMER_GROUP: env.string().default("user-consumer").describe("Kafka consumer group of the user-consumer"),
});

export type UserConsumerConfig = z.infer<typeof userConsumerConfigSchema>;
export const loadUserConsumerConfig = (source?: Record<string, string | undefined>): UserConsumerConfig => loadConfig(userConsumerConfigSchema, source);
