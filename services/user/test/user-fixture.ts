/**
 * Test support for the user service: two throwaway shard databases with the
 * user schema, a Redis key prefix, an etcd service name and id-worker prefix of
 * its own, an in-process user service on port 0, and a real gRPC client that
 * finds it through etcd. Everything is removed by `cleanup()`.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { RowDataPacket } from "mysql2/promise";
import { createEtcd } from "@rs/discovery";
import { createServiceClient, type ServiceClient } from "@rs/grpc";
import { userV1 } from "@rs/idl";
import { createLogger } from "@rs/logger";
import { migrate, ShardedMysql } from "@rs/mysql";
import { redisFromUrl, type RedisClient } from "@rs/redis";
import { metricsRegistry } from "@rs/runtime";
import { createThrowawayDatabases, type ThrowawayDatabases } from "../../../pkg/mysql/test/throwaway-databases.js";
import { infra } from "../../../test/infra.js";
import { deleteKeysMatching } from "../../../test/support/redis-keys.js";
import { loadUserConfig, type UserConfig } from "../src/config.js";
import { startUserService, type RunningUserService } from "../src/user.process.js";

export const logger = createLogger("user-test", process.env.TEST_LOG_LEVEL ?? "silent");
export const TEST_JWT_SECRET = "user-service-test-secret-".padEnd(48, "x");
const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PHYSICAL_SHARDS = 2;
const POLL_MS = 20;

export interface UserFixture {
  readonly tag: string;
  readonly dbs: ThrowawayDatabases;
  /** Environment of the service under test (without the ports). */
  readonly env: Record<string, string>;
  /** A client of REDIS_URL: a single Redis, or a Cluster in the integration-cluster project. */
  readonly redis: RedisClient;
  /** Starts (another) instance with `overrides`; stopped at cleanup. */
  start(overrides?: Record<string, string>): Promise<RunningUserService>;
  /** A gRPC client of the service through etcd (closed at cleanup). */
  client(): ServiceClient<userV1.UserServiceClient>;
  /** Rows of a table across both shards. */
  rows(table: "users" | "usernames", where?: string, params?: unknown[]): Promise<RowDataPacket[]>;
  cleanup(): Promise<void>;
}

/** Creates and migrates the databases; starts nothing yet. */
export async function userFixture(extraEnv: Record<string, string> = {}): Promise<UserFixture> {
  const tag = randomBytes(5).toString("hex");
  const dbs = await createThrowawayDatabases(PHYSICAL_SHARDS);
  const migrator = ShardedMysql.create({ dsns: dbs.dsns, virtualShards: 64, poolSize: 1, logger });
  try {
    await migrate(migrator, [{ name: "user", dir: MIGRATIONS_DIR }], logger);
  } finally {
    await migrator.close();
  }
  const i = infra();
  const serviceName = `user-test-${tag}`;
  const workerPrefix = `/rs-test/user-${tag}/ids/`;
  const env: Record<string, string> = {
    MYSQL_SHARD_DSNS: dbs.dsns.join(","),
    REDIS_URL: i.redisUrl,
    ETCD_ENDPOINTS: i.etcdEndpoints.join(","),
    GRPC_PORT: "0",
    GRPC_HOST: "127.0.0.1",
    ADMIN_PORT: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    JWT_SECRET: TEST_JWT_SECRET,
    SERVICE_NAME: serviceName,
    REDIS_KEY_PREFIX: `rs:test:user:${tag}:`,
    TOKEN_REVOCATION_PREFIX: `rs:test:user:${tag}:revoked:`,
    PROFILE_CHANGES_CHANNEL: `rs:test:user:${tag}:profile-changes`,
    ID_WORKER_PREFIX: workerPrefix,
    BCRYPT_COST: "4",
    USER_BLOOM_EXPECTED_USERS: "10000",
    SHUTDOWN_TIMEOUT_MS: "2000",
    ...extraEnv,
  };
  const redis = redisFromUrl(env.REDIS_URL!, { maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined); // a test may kill its private Redis; the service's own client reports that

  const etcd = createEtcd(i.etcdEndpoints);
  const running: RunningUserService[] = [];
  const clients: ServiceClient<userV1.UserServiceClient>[] = [];
  const admin = dbs.admin;

  return {
    tag,
    dbs,
    env,
    redis,
    async start(overrides = {}) {
      const config: UserConfig = loadUserConfig({ ...env, ...overrides });
      const svc = await startUserService(config, { logger });
      running.push(svc);
      return svc;
    },
    client() {
      const c = createServiceClient(userV1.UserServiceClient, { target: { service: serviceName, etcd }, logger, deadlineMs: 10_000 });
      clients.push(c);
      return c;
    },
    async rows(table, where = "1 = 1", params = []) {
      const out: RowDataPacket[] = [];
      for (const db of dbs.names) {
        const [rows] = await admin.query<RowDataPacket[]>(`SELECT * FROM \`${db}\`.${table} WHERE ${where}`, params);
        out.push(...rows);
      }
      return out;
    },
    async cleanup() {
      for (const c of clients) await c.close();
      for (const svc of running.reverse()) await svc.stop().catch(() => undefined);
      await deleteKeysMatching(redis, `*${tag}*`);
      redis.disconnect();
      await etcd.delete().prefix(`/rs-test/user-${tag}/`);
      etcd.close();
      await dbs.drop();
    },
  };
}

/** Sum of a counter in the process registry, optionally for one label value. */
export async function counterValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metricsRegistry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Shard queries sent by this process so far (see user.metrics.ts). */
export const shardQueryCount = (query?: string) => counterValue("user_shard_queries_total", query ? { query } : {});

/** The gRPC status code of a rejected call. */
export async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    return (err as { code: number }).code;
  }
  throw new Error("the call succeeded");
}

/** Polls `cond` until it holds. */
export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** A fresh username no other run uses. */
export const uniqueName = (label: string) => `${label}_${randomBytes(4).toString("hex")}`;
