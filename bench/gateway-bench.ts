/**
 * Gateway HTTP throughput with autocannon (run by hand, not in CI).
 *
 *   node --import tsx bench/gateway-bench.ts [seconds=10] [connections=50]
 *
 * Spawns the user service and the gateway as their own processes (the entry
 * points the stack runs, under private etcd names, Redis prefixes and free ports,
 * against the running local infrastructure), registers one user, then measures
 * one route after the other, each for the same time and concurrency:
 *
 * - `GET /api/nowhere`: the floor of every route: Express, request id, access
 *   log, the per-address token bucket in Redis, a 404.
 * - `GET /douyin/user/?user_id=`: the app's public profile read: address bucket
 *   plus one GetUser over gRPC (profile cached in Redis).
 * - `GET /api/user/me`: the cheapest signed-in route: JWT verify, the revocation
 *   check and two token buckets in Redis, one GetUser over gRPC.
 *
 * Prints one JSON line per route (req/s, latency percentiles in ms, non-2xx) and
 * the machine. LOG_LEVEL of the spawned processes defaults to warn (BENCH_LOG_LEVEL
 * to change it): an info access line per request is part of production cost, so
 * it is measured separately with BENCH_LOG_LEVEL=info. BENCH_GATEWAY_NODE_ARGS passes
 * node flags to the gateway (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { migrateAll } from "../deploy/stack/migrate.js";
import { ROOT, infraEnv } from "../deploy/stack/settings.js";
import { freePort } from "../test/support/free-port.js";
import { stopProcess } from "./lib/bench-processes.js";

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 50);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "warn";
const READY_TIMEOUT_MS = 60_000;
const POLL_MS = 200;
const WARMUP_SECONDS = 2;
const UNLIMITED = "100000000";
/** Extra node flags for the gateway, e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? "").split(" ").filter((a) => a.length > 0);

const children: ChildProcess[] = [];
function start(name: string, entry: string, env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", path.join(ROOT, entry)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  child.once("exit", (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`${name} exited ${code}: ${stderr.slice(-2000)}\n`);
  });
  children.push(child);
  return child;
}

async function waitReady(adminPort: number, name: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`${name} not ready after ${READY_TIMEOUT_MS} ms`);
}

async function measure(name: string, url: string, headers: Record<string, string> = {}) {
  await autocannon({ url, connections, duration: WARMUP_SECONDS, headers });
  const r = await autocannon({ url, connections, duration: seconds, headers });
  return {
    route: name,
    requestsPerSecond: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

const tag = randomBytes(4).toString("hex");
const [userGrpc, userAdmin, gwHttp, gwAdmin] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
const common = {
  ...infraEnv(),
  JWT_SECRET: randomBytes(32).toString("base64url"),
  LOG_LEVEL,
  SERVICE_HOST: "127.0.0.1",
  TOKEN_REVOCATION_PREFIX: `bench:${tag}:revoked:`,
};
try {
  await migrateAll();
  start("user", "services/user/src/main.ts", {
    ...common,
    SERVICE_NAME: `user-bench-${tag}`,
    GRPC_PORT: String(userGrpc),
    ADMIN_PORT: String(userAdmin),
    REDIS_KEY_PREFIX: `bench:${tag}:user:`,
  });
  start(
    "gateway",
    "gateway/src/main.ts",
    {
      ...common,
      USER_SERVICE_NAME: `user-bench-${tag}`,
      RELATION_SERVICE_NAME: `relation-bench-${tag}`,
      COUNT_SERVICE_NAME: `count-bench-${tag}`,
      HTTP_PORT: String(gwHttp),
      HTTP_HOST: "127.0.0.1",
      ADMIN_PORT: String(gwAdmin),
      RATE_LIMIT_KEY_PREFIX: `bench:${tag}:rl:`,
      RATE_LIMIT_IP_CAPACITY: UNLIMITED,
      RATE_LIMIT_IP_REFILL_PER_SECOND: UNLIMITED,
      RATE_LIMIT_USER_CAPACITY: UNLIMITED,
      RATE_LIMIT_USER_REFILL_PER_SECOND: UNLIMITED,
    },
    GATEWAY_NODE_ARGS,
  );
  await Promise.all([waitReady(userAdmin, "user"), waitReady(gwAdmin, "gateway")]);

  const base = `http://127.0.0.1:${gwHttp}`;
  const reg = (await (
    await fetch(`${base}/api/user/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: `bench_${tag}`, password: "bench-password" }),
    })
  ).json()) as { userId: number; token: string };
  if (!reg.token) throw new Error(`register failed: ${JSON.stringify(reg)}`);

  const results = [
    await measure("GET /api/nowhere (404 floor)", `${base}/api/nowhere`),
    await measure("GET /douyin/user/?user_id= (public profile)", `${base}/douyin/user/?user_id=${reg.userId}`),
    await measure("GET /api/user/me (signed in)", `${base}/api/user/me`, { authorization: `Bearer ${reg.token}` }),
  ];
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, seconds, connections, logLevel: LOG_LEVEL };
  console.log(JSON.stringify({ machine }));
  for (const r of results) console.log(JSON.stringify(r));
} finally {
  await Promise.all(children.map(stopProcess));
  // The bench's own Redis keys (profile cache, buckets); the registered user stays in the shards as bench_<tag>.
  const redis = new Redis(infraEnv().REDIS_URL!);
  const keys = await redis.keys(`bench:${tag}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
}
