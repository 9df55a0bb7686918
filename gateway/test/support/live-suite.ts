/**
 * The gateway in front of the REAL user, relation and count services, all in-process
 * on free ports, against the shared Redis, etcd and Kafka and two throwaway
 * MariaDB databases. Everything is private to one suite: etcd service names,
 * Redis key prefixes, the Kafka topic and the databases carry a random tag, and
 * `stop()` removes them.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createKafka } from "@rs/kafka";
import { createLogger, type Logger } from "@rs/logger";
import { loadCountConfig, startCountService } from "@rs/count";
import { loadRelationConfig, startRelationService } from "@rs/relation";
import { loadUserConfig, startUserService, type RunningUserService } from "@rs/user";
import { migrateAll } from "../../../deploy/stack/migrate.js";
import { createThrowawayDatabases } from "../../../pkg/mysql/test/throwaway-databases.js";
import { infra } from "../../../test/infra.js";
import { deleteKeysMatching } from "../../../test/support/redis-keys.js";
import { loadGatewayConfig, startGateway, type RunningGateway } from "../../src/index.js";

export interface LiveSuite {
  readonly url: string;
  readonly gateway: RunningGateway;
  readonly user: RunningUserService;
  readonly relation: Awaited<ReturnType<typeof startRelationService>>;
  readonly count: Awaited<ReturnType<typeof startCountService>>;
  /** The JWT settings every process of the suite shares. */
  readonly jwt: { readonly secret: string; readonly issuer: string; readonly audience: string };
  readonly tag: string;
  /** A Redis connection for checks (keys of this suite start with `keyPrefix`). */
  readonly redis: Redis;
  readonly keyPrefix: string;
  /** Another gateway instance on the same services and Redis (for cross-instance checks); stopped with the suite. */
  startAnotherGateway(env?: Record<string, string>, opts?: { logger?: Logger }): Promise<RunningGateway>;
  stop(): Promise<void>;
}

const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? "error";
/** Generous limits: tests that are not about rate limiting must never hit one. */
const UNLIMITED = "1000000";

export async function startLiveSuite(gatewayEnv: Record<string, string> = {}): Promise<LiveSuite> {
  const tag = randomBytes(5).toString("hex");
  const keyPrefix = `gwtest:${tag}:`;
  const jwt = { secret: randomBytes(32).toString("base64url"), issuer: "relation-suite", audience: "relation-suite-apps" };
  const i = infra();
  const cleanup: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
  };
  try {
    // First in, last out: the keys go once every process that writes them has stopped.
    const redis = new Redis(i.redisUrl);
    cleanup.push(async () => {
      // `*…*`: the user service's bloom keys begin with their hash tag, `{<prefix>user:bloom}:0`
      await deleteKeysMatching(redis, `*${keyPrefix}*`);
      await redis.quit();
    });

    const dbs = await createThrowawayDatabases(2);
    cleanup.push(() => dbs.drop());
    await migrateAll({ dsns: dbs.dsns });

    const common = {
      MYSQL_SHARD_DSNS: dbs.dsns.join(","),
      REDIS_URL: i.redisUrl,
      ETCD_ENDPOINTS: i.etcdEndpoints.join(","),
      KAFKA_BROKERS: i.kafkaBrokers.join(","),
      JWT_SECRET: jwt.secret,
      LOG_LEVEL,
      ADMIN_PORT: "0",
      GRPC_PORT: "0",
      SERVICE_HOST: "127.0.0.1",
      TOKEN_REVOCATION_PREFIX: `${keyPrefix}revoked:`,
    };
    const names = { user: `user-gwtest-${tag}`, relation: `relation-gwtest-${tag}`, count: `count-gwtest-${tag}` };

    const user = await startUserService(loadUserConfig({ ...common, SERVICE_NAME: names.user, REDIS_KEY_PREFIX: `${keyPrefix}user:`, BCRYPT_COST: "4" }));
    cleanup.push(() => user.stop());

    const topic = `gwtest.relation.events.${tag}`;
    const kafka = createKafka({ brokers: i.kafkaBrokers, clientId: `gwtest-${tag}`, logger: createLogger("gwtest-kafka", "error") });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    cleanup.push(async () => {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    });

    const relation = await startRelationService(
      loadRelationConfig({
        ...common,
        SERVICE_NAME: names.relation,
        USER_SERVICE_NAME: names.user,
        RELATION_KEY_PREFIX: `${keyPrefix}rel:`,
        RELATION_EVENTS_TOPIC: topic,
        KAFKA_CLIENT_ID: `relation-gwtest-${tag}`,
      }),
    );
    cleanup.push(() => relation.stop());

    const count = await startCountService(loadCountConfig({ ...common, SERVICE_NAME: names.count, COUNT_KEY_PREFIX: `${keyPrefix}count:` }));
    cleanup.push(() => count.stop());

    const gatewayEnvOf = (extra: Record<string, string>) => ({
      ...common,
      HTTP_PORT: "0",
      HTTP_HOST: "127.0.0.1",
      USER_SERVICE_NAME: names.user,
      RELATION_SERVICE_NAME: names.relation,
      COUNT_SERVICE_NAME: names.count,
      RATE_LIMIT_KEY_PREFIX: `${keyPrefix}rl:`,
      RATE_LIMIT_USER_CAPACITY: UNLIMITED,
      RATE_LIMIT_IP_CAPACITY: UNLIMITED,
      RATE_LIMIT_AUTH_CAPACITY: UNLIMITED,
      ...gatewayEnv,
      ...extra,
    });
    const startAnotherGateway = async (extra: Record<string, string> = {}, opts: { logger?: Logger } = {}) => {
      const g = await startGateway(loadGatewayConfig(gatewayEnvOf(extra)), opts);
      cleanup.push(() => g.stop());
      return g;
    };
    const gateway = await startAnotherGateway();

    return { url: gateway.url, gateway, user, relation, count, jwt, tag, redis, keyPrefix, startAnotherGateway, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
