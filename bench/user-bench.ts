/**
 * Speed of the user service against the bare grpc-js echo baseline, measured in
 * one run with ghz (same concurrency, same duration, one after the other):
 * GetUser and BatchGetUsers(100) from a warm profile cache, then Login at the
 * configured bcrypt cost. Run by hand, against the running local servers:
 *
 *   node --import tsx bench/user-bench.ts [seconds=10] [concurrency=50] [users=10000]
 *
 * Needs ghz (`go install github.com/bojand/ghz/cmd/ghz@v0.121.0`) on PATH or in
 * $(go env GOPATH)/bin. Seeds users straight into two throwaway rs_test_*
 * databases (one bcrypt hash shared by all), starts the echo server and the user
 * service as separate processes the way the stack does, and removes everything
 * afterwards. Prints a table and a JSON summary. BCRYPT_COST sets the login cost.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { hashPassword } from "@rs/auth";
import { createEtcd } from "@rs/discovery";
import { createServiceClient } from "@rs/grpc";
import { userV1 } from "@rs/idl";
import { createLogger } from "@rs/logger";
import { migrate, ShardedMysql } from "@rs/mysql";
import { closeRedis, createRedis, waitForRedisReady } from "@rs/redis";
import { BCRYPT_COST_DEFAULT, usernameRoutingKey } from "@rs/user";
import { TELEMETRY_PRELOAD } from "../deploy/stack/apps.js";
import { infraEnv, ROOT } from "../deploy/stack/settings.js";
import { createThrowawayDatabases } from "../pkg/mysql/test/throwaway-databases.js";
import { freePort } from "../test/support/free-port.js";
import { deleteKeysMatching } from "../test/support/redis-keys.js";
import { spawnEchoServer, spawnReady, stopProcess } from "./lib/bench-processes.js";
import { cpuSeconds } from "./lib/cpu-time.js";
import { ghz, type GhzResult } from "./lib/ghz.js";

const seconds = Number(process.argv[2] ?? 10);
const concurrency = Number(process.argv[3] ?? 50);
const users = Number(process.argv[4] ?? 10_000);
const bcryptCost = Number(process.env.BCRYPT_COST ?? BCRYPT_COST_DEFAULT);
/** Logins are bcrypt-bound (libuv's 4 threads); more callers only queue. */
const LOGIN_CONCURRENCY = 8;
/** The stack preloads OpenTelemetry into every process; BENCH_TELEMETRY=0 measures without it. */
const withTelemetry = process.env.BENCH_TELEMETRY !== "0";
const WARMUP_SECONDS = 2;
const BATCH = 100;
const FIRST_ID = 1_000_000_000_000;
const PASSWORD = "bench-password";
const INSERT_CHUNK = 2_000;
const logger = createLogger("user-bench", "warn");

interface Result extends GhzResult {
  /** CPU time of the server process per call: steadier than req/s on a shared machine. */
  serverCpuMicrosPerCall?: number;
  /** CPU time of ghz per call: on a small machine the load generator competes with the server. */
  clientCpuMicrosPerCall?: number;
}

const MICROS_PER_SECOND = 1e6;

/** Writes `users` accounts and their confirmed usernames straight into the shards. */
async function seed(dsns: readonly string[]): Promise<void> {
  const sharded = ShardedMysql.create({ dsns, virtualShards: 64, poolSize: 4, logger });
  try {
    await migrate(sharded, [{ name: "user", dir: path.join(ROOT, "services/user/migrations") }], logger);
    const hash = await hashPassword(PASSWORD, bcryptCost);
    const ids = Array.from({ length: users }, (_, i) => FIRST_ID + i);
    const now = Date.now();
    for (const [physical, group] of sharded.groupByShard(ids, (id) => id)) {
      for (let from = 0; from < group.length; from += INSERT_CHUNK) {
        const rows = group.slice(from, from + INSERT_CHUNK).map((id) => [id, `bench_${id - FIRST_ID}`, hash, `https://img.example/${id}.png`, "", "hello", id % 1000, id % 5000, now, now]);
        await sharded.pool(physical).query(
          "INSERT INTO users (id, username, password_hash, avatar, background_image, signature, follow_count, follower_count, created_at, updated_at) VALUES ?",
          [rows],
        );
      }
    }
    for (const [physical, group] of sharded.groupByShard(ids, (id) => usernameRoutingKey(`bench_${id - FIRST_ID}`))) {
      for (let from = 0; from < group.length; from += INSERT_CHUNK) {
        const rows = group.slice(from, from + INSERT_CHUNK).map((id) => [`bench_${id - FIRST_ID}`, id, 1, now]);
        await sharded.pool(physical).query("INSERT INTO usernames (username, user_id, state, claimed_at) VALUES ?", [rows]);
      }
    }
  } finally {
    await sharded.close();
  }
}

const tag = randomBytes(4).toString("hex");
const infra = infraEnv();
const serviceName = `user-bench-${tag}`;
const keyPrefix = `rs:test:bench:${tag}:`;
const workerPrefix = `/rs-test/user-bench-${tag}/ids/`;
const dbs = await createThrowawayDatabases(2);
let echo: ChildProcess | undefined;
let user: ChildProcess | undefined;
try {
  await seed(dbs.dsns);
  const echoServer = await spawnEchoServer();
  echo = echoServer.child;
  const userPort = await freePort();
  user = await spawnReady(
    "user",
    ["--import", "tsx", ...(withTelemetry ? ["--import", TELEMETRY_PRELOAD] : []), ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []), path.join(ROOT, "services/user/src/main.ts")],
    {
      ...process.env,
      ...infra,
      MYSQL_SHARD_DSNS: dbs.dsns.join(","),
      GRPC_PORT: String(userPort),
      GRPC_HOST: "127.0.0.1",
      ADMIN_PORT: "0",
      SERVICE_NAME: serviceName,
      REDIS_KEY_PREFIX: keyPrefix,
      TOKEN_REVOCATION_PREFIX: `${keyPrefix}revoked:`,
      ID_WORKER_PREFIX: workerPrefix,
      JWT_SECRET: randomBytes(32).toString("hex"),
      BCRYPT_COST: String(bcryptCost),
      OTEL_SERVICE_NAME: "user",
      LOG_LEVEL: "info",
    },
    (l) => l.includes('"msg":"serving"'),
  );

  const echoAddr = echoServer.address;
  const userAddr = `127.0.0.1:${userPort}`;
  // Warm the profile cache with every seeded user.
  const client = createServiceClient(userV1.UserServiceClient, { target: { address: userAddr }, logger, deadlineMs: 10_000 });
  for (let i = 0; i < users; i += BATCH) {
    await client.batchGetUsers({ userIds: Array.from({ length: Math.min(BATCH, users - i) }, (_, j) => FIRST_ID + i + j) });
  }
  await client.close();

  // Quoted: ghz checks the data is JSON before it fills the template in; proto JSON takes int64 as a string.
  const randomId = `"{{randomInt ${FIRST_ID} ${FIRST_ID + users}}}"`;
  const runs = {
    echo: [echoAddr, "echo.v1.EchoService.Echo", JSON.stringify({ message: "hi" })],
    getUser: [userAddr, "user.v1.UserService.GetUser", `{"user_id":${randomId}}`],
    batch100: [userAddr, "user.v1.UserService.BatchGetUsers", `{"user_ids":[${Array(BATCH).fill(randomId).join(",")}]}`],
    login: [userAddr, "user.v1.UserService.Login", `{"username":"bench_{{randomInt 0 ${users}}}","password":"${PASSWORD}"}`],
  } as const;
  const measure = (name: string, [addr, call, data]: readonly [string, string, string], c = concurrency) => {
    ghz(`${name} (warm-up)`, addr, call, data, { seconds: WARMUP_SECONDS, concurrency: c });
    const server = addr === echoAddr ? echo : user;
    const [srv0, cli0] = [cpuSeconds(server?.pid), cpuSeconds("self", true)];
    const result: Result = ghz(name, addr, call, data, { seconds, concurrency: c });
    const [srv1, cli1] = [cpuSeconds(server?.pid), cpuSeconds("self", true)];
    const calls = result.rps * seconds;
    const perCall = (a: number | undefined, b: number | undefined) =>
      a !== undefined && b !== undefined && calls > 0 ? Math.round(((b - a) * MICROS_PER_SECOND) / calls) : undefined;
    result.serverCpuMicrosPerCall = perCall(srv0, srv1);
    result.clientCpuMicrosPerCall = perCall(cli0, cli1);
    return result;
  };
  const echoResult = measure("echo (bare grpc-js)", runs.echo);
  const results = [echoResult, measure("GetUser (cached)", runs.getUser), measure(`BatchGetUsers(${BATCH}) (cached)`, runs.batch100)];
  const login = measure(`Login (bcrypt cost ${bcryptCost})`, runs.login, LOGIN_CONCURRENCY);

  const rows = [...results, login].map((r) => ({ ...r, ratioToEcho: Number((r.rps / echoResult.rps).toFixed(2)) }));
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const load = os.loadavg().map((l) => l.toFixed(1)).join(" ");
  process.stdout.write(
    `\nuser-bench: ${seconds}s per run, concurrency ${concurrency} (login ${LOGIN_CONCURRENCY}), ${users} users, telemetry ${withTelemetry ? "on" : "off"}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load average ${load}\n`,
  );
  process.stdout.write(`${"call".padEnd(32)}${pad("req/s", 9)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("× echo", 9)}${pad("server µs/call", 16)}${pad("ghz µs/call", 13)}${pad("errors", 8)}\n`);
  for (const r of rows) {
    const cells = [pad(r.rps, 9), pad(r.p50Ms, 9), pad(r.p99Ms, 9), pad(r.ratioToEcho, 9), pad(r.serverCpuMicrosPerCall ?? "-", 16), pad(r.clientCpuMicrosPerCall ?? "-", 13), pad(r.errors, 8)];
    process.stdout.write(`${r.name.padEnd(32)}${cells.join("")}\n`);
  }
  process.stdout.write(`${JSON.stringify({ seconds, concurrency, loginConcurrency: LOGIN_CONCURRENCY, users, bcryptCost, withTelemetry, loadAverage: load, results: rows })}\n`);
} finally {
  await stopProcess(user);
  await stopProcess(echo);
  const redis = createRedis(infra.REDIS_URL!, { logger, name: "user-bench-cleanup" });
  await waitForRedisReady(redis);
  await deleteKeysMatching(redis, `*${keyPrefix}*`);
  await closeRedis(redis);
  const etcd = createEtcd(infra.ETCD_ENDPOINTS!.split(","));
  await etcd.delete().prefix(`/rs-test/user-bench-${tag}/`);
  etcd.close();
  await dbs.drop();
}
