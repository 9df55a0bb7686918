/**
 * The user rpc process: opens the shards, Redis and a leased id worker, seeds
 * the existence filter if needed, and serves user.v1.UserService.
 */
import { randomBytes } from "node:crypto";
import { hashPassword, RevocationStore, TokenIssuer, TokenVerifier } from "@rs/auth";
import { openRedis, openShardedMysql, startRpcProcess, type RunningProcess } from "@rs/bootstrap";
import { protoFiles } from "@rs/idl";
import type { Logger } from "@rs/logger";
import { hotKeysOf } from "@rs/config";
import { redisReadiness } from "@rs/redis";
import { LeasedIdSource } from "./adapters/ids/leased-id-source.js";
import { HotProfiles } from "./adapters/memory/hot-profiles.js";
import { UsersRepository } from "./adapters/mysql/users.repository.js";
import { RedisProfileCache } from "./adapters/redis/profile-cache.js";
import { RedisUserExistenceFilter } from "./adapters/redis/user-existence-filter.js";
import type { UserConfig } from "./config.js";
import { AccountService } from "./domain/account.service.js";
import { CountChangesService } from "./domain/count-changes.service.js";
import { ProfileService } from "./domain/profile.service.js";
import { userServiceBinding } from "./grpc/user.grpc.js";
import { hotProfileMetrics } from "./user.metrics.js";

const MS_PER_SECOND = 1_000;
/** Random bytes of the decoy password: nobody can log in with it, it only makes the decoy hash. */
const DECOY_PASSWORD_BYTES = 18;

/** What an in-process instance exposes to tests. */
export interface UserServiceInternals {
  readonly accounts: AccountService;
  readonly profiles: ProfileService;
  /** The count.changed use case (the user-consumer runs it; tests call it directly). */
  readonly counts: CountChangesService;
  readonly existence: RedisUserExistenceFilter;
  readonly cache: RedisProfileCache;
  readonly store: UsersRepository;
  readonly ids: LeasedIdSource;
}

/** A running user service; `internals` reach its use cases and adapters (tests). */
export type RunningUserService = RunningProcess & { readonly internals: UserServiceInternals };

/**
 * Starts the user service with a validated config (gRPC on GRPC_PORT, admin on
 * ADMIN_PORT, registered in etcd as SERVICE_NAME). Rejects if a store cannot
 * be reached at start; `stop()` shuts down in order.
 */
export async function startUserService(config: UserConfig, opts: { logger?: Logger } = {}): Promise<RunningUserService> {
  const running = await startRpcProcess<UserServiceInternals>({
    name: config.SERVICE_NAME,
    settings: config,
    logger: opts.logger,
    async setup({ logger, lifecycle, etcd }) {
      const sharded = openShardedMysql({ logger, lifecycle }, config);
      const redis = await openRedis({ logger, lifecycle }, config.REDIS_URL, config.SERVICE_NAME);

      const ids = await LeasedIdSource.start(etcd, { prefix: config.ID_WORKER_PREFIX, ttlSeconds: config.ID_LEASE_TTL_SECONDS, logger });
      lifecycle.add("release id worker", () => ids.release());

      const store = new UsersRepository(sharded);
      const redisCache = RedisProfileCache.fromSettings(redis, config);
      const cache = new HotProfiles(redisCache, hotKeysOf(config, config.PROFILE_HOT_CACHE_SIZE), hotProfileMetrics);
      const existence = new RedisUserExistenceFilter(redis, {
        keyPrefix: config.REDIS_KEY_PREFIX,
        expectedUsers: config.USER_BLOOM_EXPECTED_USERS,
        falsePositiveRate: config.USER_BLOOM_FALSE_POSITIVE_RATE,
        store,
        logger,
      });
      await existence.ensureSeeded();

      const revocations = new RevocationStore(redis, { keyPrefix: config.TOKEN_REVOCATION_PREFIX, graceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS });
      const accounts = new AccountService({
        store,
        cache,
        existence,
        ids,
        issuer: TokenIssuer.fromConfig(config),
        verifier: TokenVerifier.fromConfig(config, { revocations }),
        revocations,
        bcryptCost: config.BCRYPT_COST,
        decoyHash: await hashPassword(randomBytes(DECOY_PASSWORD_BYTES).toString("base64url"), config.BCRYPT_COST),
        claimGraceMs: config.USERNAME_CLAIM_GRACE_SECONDS * MS_PER_SECOND,
        logger,
      });
      const profiles = new ProfileService({ store, cache, existence, logger });
      const counts = new CountChangesService({ store, cache });

      return {
        services: [userServiceBinding(accounts, profiles)],
        reflectionProtoFiles: [protoFiles.user],
        checks: [
          { name: "mysql-shards", check: () => sharded.ping() },
          redisReadiness(redis),
          {
            name: "id-worker-lease",
            check: async () => {
              if (!ids.isHeld()) throw new Error("no id worker lease held (etcd unreachable?); registers are refused");
            },
          },
        ],
        exposed: { accounts, profiles, counts, existence, cache: redisCache, store, ids },
      };
    },
  });
  return { ...running, internals: running.exposed as UserServiceInternals };
}
