/**
 * A user service with seeded accounts, for benchmarks: users written straight
 * into two throwaway rs_test_* shard databases (one bcrypt hash shared by all),
 * optionally each with persisted follows (user i follows i+1 … i+k, follows and
 * fans rows) for a relation service on the same databases, the service started
 * from its entry point the way the stack starts it, its profile cache warmed,
 * and everything removed by `close()`.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { hashPassword } from "@rs/auth";
import { createServiceClient } from "@rs/grpc";
import { userV1 } from "@rs/idl";
import { createLogger } from "@rs/logger";
import { migrate, ShardedMysql } from "@rs/mysql";
import { usernameRoutingKey } from "@rs/user";
import { TELEMETRY_PRELOAD } from "../../deploy/stack/apps.js";
import { infraEnv, ROOT } from "../../deploy/stack/settings.js";
import { createThrowawayDatabases } from "../../pkg/mysql/test/throwaway-databases.js";
import { freePort } from "../../test/support/free-port.js";
import { removeBenchState } from "./bench-cleanup.js";
import { spawnReady, stopProcess } from "./bench-processes.js";

export const FIRST_USER_ID = 1_000_000_000_000;
export const USER_PASSWORD = "bench-password";
const INSERT_CHUNK = 2_000;
const WARM_BATCH = 100;
const logger = createLogger("user-fixture", "warn");

/** Writes `users` accounts and their confirmed usernames, and `followsPerUser` follows each, straight into the shards. */
async function seed(dsns: readonly string[], users: number, bcryptCost: number, followsPerUser: number): Promise<void> {
  const sharded = ShardedMysql.create({ dsns, virtualShards: 64, poolSize: 4, logger });
  try {
    const migrations = [{ name: "user", dir: path.join(ROOT, "services/user/migrations") }];
    if (followsPerUser > 0) migrations.push({ name: "relation", dir: path.join(ROOT, "services/relation/migrations") });
    await migrate(sharded, migrations, logger);
    const hash = await hashPassword(USER_PASSWORD, bcryptCost);
    const ids = Array.from({ length: users }, (_, i) => FIRST_USER_ID + i);
    const now = Date.now();
    for (const [physical, group] of sharded.groupByShard(ids, (id) => id)) {
      for (let from = 0; from < group.length; from += INSERT_CHUNK) {
        const rows = group
          .slice(from, from + INSERT_CHUNK)
          .map((id) => [id, `bench_${id - FIRST_USER_ID}`, hash, `https://img.example/${id}.png`, "", "hello", id % 1000, id % 5000, now, now]);
        await sharded
          .pool(physical)
          .query(
            "INSERT INTO users (id, username, password_hash, avatar, background_image, signature, follow_count, follower_count, created_at, updated_at) VALUES ?",
            [rows],
          );
      }
    }
    for (const [physical, group] of sharded.groupByShard(ids, (id) => usernameRoutingKey(`bench_${id - FIRST_USER_ID}`))) {
      for (let from = 0; from < group.length; from += INSERT_CHUNK) {
        const rows = group.slice(from, from + INSERT_CHUNK).map((id) => [`bench_${id - FIRST_USER_ID}`, id, 1, now]);
        await sharded.pool(physical).query("INSERT INTO usernames (username, user_id, state, claimed_at) VALUES ?", [rows]);
      }
    }
    // user i follows the next followsPerUser users (wrapping), an edge a second apart
    const edges = ids.flatMap((from, i) =>
      Array.from({ length: Math.min(followsPerUser, users - 1) }, (_, k) => [from, FIRST_USER_ID + ((i + k + 1) % users), now - 86_400_000 + k * 1_000]),
    );
    for (const [table, owner] of [
      ["follows (from_user_id, to_user_id", 0],
      ["fans (to_user_id, from_user_id", 1],
    ] as const) {
      for (const [physical, group] of sharded.groupByShard(edges, (e) => e[owner]!)) {
        for (let from = 0; from < group.length; from += INSERT_CHUNK) {
          const rows = group.slice(from, from + INSERT_CHUNK).map((e) => [e[owner], e[1 - owner], 0, 1, e[2], 1, e[2]]);
          await sharded.pool(physical).query(`INSERT INTO ${table}, source, status, created_at, version, updated_at) VALUES ?`, [rows]);
        }
      }
    }
  } finally {
    await sharded.close();
  }
}

export interface UserServiceOptions {
  /** Preload OpenTelemetry (as the stack does). */
  readonly telemetry: boolean;
  /** Extra environment (e.g. OTEL_* variables). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface UserFixture {
  readonly users: number;
  /** The seeded shards (for other services on the same data). */
  readonly dsns: readonly string[];
  /** The name the user services register under in etcd (USER_SERVICE_NAME of their callers). */
  readonly serviceName: string;
  /** A Redis key prefix of this fixture's own: everything under it is deleted by `close()`. */
  readonly keyPrefix: string;
  /** Starts one user service on the seeded shards; its profile cache is warm once this resolves. */
  start(options: UserServiceOptions): Promise<{ child: ChildProcess; address: string }>;
  /** Stops every service it started and removes the databases, keys and etcd entries. */
  close(): Promise<void>;
}

export async function createUserFixture(users: number, bcryptCost: number, followsPerUser = 0): Promise<UserFixture> {
  const tag = randomBytes(4).toString("hex");
  const infra = infraEnv();
  const keyPrefix = `rs:test:bench:${tag}:`;
  const etcdPrefix = `/rs-test/user-bench-${tag}/`;
  const dbs = await createThrowawayDatabases(2);
  const children: ChildProcess[] = [];
  const serviceName = `user-bench-${tag}`;
  await seed(dbs.dsns, users, bcryptCost, followsPerUser);
  return {
    users,
    dsns: dbs.dsns,
    serviceName,
    keyPrefix,
    async start({ telemetry, env }) {
      const port = await freePort();
      const child = await spawnReady(
        "user",
        [
          "--import",
          "tsx",
          ...(telemetry ? ["--import", TELEMETRY_PRELOAD] : []),
          ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
          path.join(ROOT, "services/user/src/main.ts"),
        ],
        {
          ...process.env,
          ...infra,
          MYSQL_SHARD_DSNS: dbs.dsns.join(","),
          GRPC_PORT: String(port),
          GRPC_HOST: "127.0.0.1",
          ADMIN_PORT: "0",
          SERVICE_NAME: serviceName,
          REDIS_KEY_PREFIX: keyPrefix,
          TOKEN_REVOCATION_PREFIX: `${keyPrefix}revoked:`,
          ID_WORKER_PREFIX: `${etcdPrefix}ids/`,
          JWT_SECRET: randomBytes(32).toString("hex"),
          BCRYPT_COST: String(bcryptCost),
          OTEL_SERVICE_NAME: "user",
          LOG_LEVEL: "info",
          ...env,
        },
        (l) => l.includes('"msg":"serving"'),
      );
      children.push(child);
      const address = `127.0.0.1:${port}`;
      const client = createServiceClient(userV1.UserServiceClient, { target: { address }, logger, deadlineMs: 10_000 });
      for (let i = 0; i < users; i += WARM_BATCH) {
        await client.batchGetUsers({
          userIds: Array.from({ length: Math.min(WARM_BATCH, users - i) }, (_, j) => FIRST_USER_ID + i + j),
          skipProcessCache: false,
        });
      }
      await client.close();
      return { child, address };
    },
    async close() {
      for (const child of children) await stopProcess(child);
      await removeBenchState(keyPrefix, etcdPrefix, logger);
      await dbs.drop();
    },
  };
}
