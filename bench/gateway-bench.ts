/**
 * Gateway HTTP throughput with autocannon (run by hand, not in CI), against
 * the gateway's cheapest route in the same run (design §10: an authenticated
 * read ≥ 0.5 × it, a follow ≥ 0.3 ×).
 *
 *   node --import tsx bench/gateway-bench.ts [seconds=10] [connections=50] [users=2000]
 *
 * Seeds `users` accounts with 20 follows each straight into two throwaway
 * shard databases (bench/lib/user-fixture.ts), starts the user service, the
 * relation service (events to a private Kafka topic, acks=all) and the gateway
 * as their own processes from their entry points (private etcd names, Redis
 * prefixes and free ports, against the running local infrastructure), signs
 * LOGINS users in, then measures one route after the other, each for the same
 * time and concurrency after a 2 s warm-up:
 *
 * - `GET /api/nowhere`: the floor of every route: Express, request id, access
 *   log, the per-address token bucket in Redis, a 404.
 * - `GET /douyin/user/?user_id=`: the app's public profile read: address bucket
 *   plus one GetUser over gRPC (profile cached in Redis).
 * - `GET /api/user/me`: the cheapest signed-in route: JWT verify, the revocation
 *   check and two token buckets in Redis, one GetUser over gRPC.
 * - `GET /api/relation/following?userId=&limit=20`: a signed-in list read, one
 *   ListFollowing(20) with profiles and is_follow (owners drawn from the first
 *   LIST_OWNERS users, whose lists are loaded before).
 * - `POST /api/relation/follow`: a signed-in follow acknowledged after Kafka's
 *   ack: a random one of the signed-in users follows a random user of the second
 *   half (almost every call a real transition).
 *
 * Prints a table (req/s, p50/p99 ms, × the 404 floor, CPU per request of the
 * gateway, user and relation processes and of Redis) and writes bench/results/gateway-bench.json. Rate limits are lifted.
 * LOG_LEVEL of the spawned processes defaults to warn (BENCH_LOG_LEVEL to
 * change it): an info access line per request is part of production cost, so
 * it is measured separately with BENCH_LOG_LEVEL=info. BENCH_GATEWAY_NODE_ARGS
 * passes node flags to the gateway (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { createKafka } from "@rs/kafka";
import { createLogger } from "@rs/logger";
import { ROOT, infraEnv } from "../deploy/stack/settings.js";
import { freePort } from "../test/support/free-port.js";
import { spawnReady, stopProcess } from "./lib/bench-processes.js";
import { cpuSeconds } from "./lib/cpu-time.js";
import { writeResult } from "./lib/results.js";
import { createUserFixture, FIRST_USER_ID, USER_PASSWORD } from "./lib/user-fixture.js";

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 50);
const users = Number(process.argv[4] ?? 2_000);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "warn";
const READY_TIMEOUT_MS = 60_000;
const POLL_MS = 200;
const WARMUP_SECONDS = 2;
const UNLIMITED = "100000000";
const FOLLOWS_PER_USER = 20;
const PAGE = 20;
/** Signed-in users the follow route acts as (each makes about rps·seconds/LOGINS follows, far below the following cap). */
const LOGINS = 200;
const LIST_OWNERS = 1_000;
const PRELOAD_CONCURRENCY = 16;
const BCRYPT_COST = 4;
const PARTITIONS = 8;
const MICROS_PER_SECOND = 1e6;
/** Extra node flags for the gateway, e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? "").split(" ").filter((a) => a.length > 0);
const logger = createLogger("gateway-bench", "warn");

function startGateway(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [...GATEWAY_NODE_ARGS, "--import", "tsx", path.join(ROOT, "gateway/src/main.ts")], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  child.once("exit", (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`gateway exited ${code}: ${stderr.slice(-2000)}\n`);
  });
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

const randomInt = (from: number, to: number) => from + Math.floor(Math.random() * (to - from));

type Request = { method?: string; path?: string; headers?: Record<string, string>; body?: string };
interface Route {
  /** What the summary finds it by: floor, profile, me, list, follow. */
  key: string;
  route: string;
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** Varies each request (path, token, body). */
  setup?: (req: Request) => Request;
}

/** The processes on a request's path whose CPU per request is measured (pids; Redis is read through INFO). */
interface Pids {
  gateway?: number;
  user?: number;
  relation?: number;
}

/** CPU seconds Redis has used so far (INFO cpu: its main thread and every other). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
  return field("used_cpu_sys") + field("used_cpu_user");
}

async function measure(r: Route, pids: Pids, redis: Redis) {
  const opts = {
    url: r.url,
    connections,
    method: r.method ?? "GET",
    headers: r.headers ?? {},
    ...(r.setup ? { requests: [{ setupRequest: r.setup as (req: unknown) => unknown }] } : {}),
  } as autocannon.Options;
  await autocannon({ ...opts, duration: WARMUP_SECONDS });
  const names = ["gateway", "user", "relation"] as const;
  const cpu0 = names.map((n) => cpuSeconds(pids[n]));
  const redis0 = await redisCpuSeconds(redis);
  const res = await autocannon({ ...opts, duration: seconds });
  const cpu1 = names.map((n) => cpuSeconds(pids[n]));
  const redis1 = await redisCpuSeconds(redis);
  const requests = res.requests.total;
  const perRequest = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && requests > 0 ? Math.round(((b - a) * MICROS_PER_SECOND) / requests) : undefined;
  return {
    key: r.key,
    route: r.route,
    requestsPerSecond: Math.round(res.requests.average),
    p50Ms: res.latency.p50,
    p99Ms: res.latency.p99,
    maxMs: res.latency.max,
    // CPU per request of each process on the path (the load generator, autocannon in this process, not counted)
    cpuMicrosPerRequest: { ...Object.fromEntries(names.map((n, i) => [n, perRequest(cpu0[i], cpu1[i])])), redis: perRequest(redis0, redis1) },
    non2xx: res.non2xx,
    errors: res.errors,
    timeouts: res.timeouts,
  };
}

const tag = randomBytes(4).toString("hex");
const infra = infraEnv();
const jwtSecret = randomBytes(32).toString("base64url");
const topic = `bench.gateway-relation-events.${tag}`;
const kafka = createKafka({ brokers: infra.KAFKA_BROKERS!.split(","), clientId: "gateway-bench", logger });
const admin = kafka.admin();
await admin.connect();
const fixture = await createUserFixture(users, BCRYPT_COST, FOLLOWS_PER_USER);
let relation: ChildProcess | undefined;
let gateway: ChildProcess | undefined;
const redis = new Redis(infra.REDIS_URL!);
try {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  const common = { ...infra, JWT_SECRET: jwtSecret, LOG_LEVEL, TOKEN_REVOCATION_PREFIX: `${fixture.keyPrefix}revoked:` };
  const user = await fixture.start({ telemetry: false, env: { JWT_SECRET: jwtSecret } });
  const relationName = `relation-bench-${tag}`;
  relation = await spawnReady(
    "relation",
    ["--import", "tsx", path.join(ROOT, "services/relation/src/main.ts")],
    {
      ...process.env,
      ...common,
      LOG_LEVEL: "info",
      MYSQL_SHARD_DSNS: fixture.dsns.join(","),
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: String(await freePort()),
      ADMIN_PORT: "0",
      SERVICE_NAME: relationName,
      USER_SERVICE_NAME: fixture.serviceName,
      RELATION_KEY_PREFIX: `${fixture.keyPrefix}rel:`,
      RELATION_EVENTS_TOPIC: topic,
    },
    (l) => l.includes('"msg":"serving"'),
  );
  const [gwHttp, gwAdmin] = await Promise.all([freePort(), freePort()]);
  gateway = startGateway({
    ...common,
    // PROFILE_COALESCE=false in the bench's environment turns the shared profile reads off in the gateway (the relation process inherits it too)
    ...(process.env.PROFILE_COALESCE ? { PROFILE_COALESCE: process.env.PROFILE_COALESCE } : {}),
    SERVICE_HOST: "127.0.0.1",
    USER_SERVICE_NAME: fixture.serviceName,
    RELATION_SERVICE_NAME: relationName,
    COUNT_SERVICE_NAME: `count-bench-${tag}`,
    HTTP_PORT: String(gwHttp),
    HTTP_HOST: "127.0.0.1",
    ADMIN_PORT: String(gwAdmin),
    RATE_LIMIT_KEY_PREFIX: `${fixture.keyPrefix}rl:`,
    RATE_LIMIT_IP_CAPACITY: UNLIMITED,
    RATE_LIMIT_IP_REFILL_PER_SECOND: UNLIMITED,
    RATE_LIMIT_USER_CAPACITY: UNLIMITED,
    RATE_LIMIT_USER_REFILL_PER_SECOND: UNLIMITED,
    RATE_LIMIT_AUTH_CAPACITY: UNLIMITED,
    RATE_LIMIT_AUTH_REFILL_PER_SECOND: UNLIMITED,
  });
  await waitReady(gwAdmin, "gateway");
  const base = `http://127.0.0.1:${gwHttp}`;

  // Sign in LOGINS seeded users (bench_<i> is user FIRST_USER_ID + i).
  const tokens: string[] = [];
  for (let i = 0; i < LOGINS; i++) {
    const res = await fetch(`${base}/api/user/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: `bench_${i}`, password: USER_PASSWORD }),
    });
    const body = (await res.json()) as { token?: string };
    if (!body.token) throw new Error(`login of bench_${i} failed: ${res.status} ${JSON.stringify(body)}`);
    tokens.push(body.token);
  }
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  // Load the lists the list route reads (the cached case, as in relation-bench).
  let next = 0;
  await Promise.all(
    Array.from({ length: PRELOAD_CONCURRENCY }, async () => {
      for (let i = next++; i < LIST_OWNERS; i = next++) {
        const res = await fetch(`${base}/api/relation/following?userId=${FIRST_USER_ID + i}&limit=${PAGE}`, { headers: bearer(tokens[0]!) });
        if (!res.ok) throw new Error(`list of ${FIRST_USER_ID + i}: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );

  const half = Math.floor(users / 2);
  const routes: Route[] = [
    { key: "floor", route: "GET /api/nowhere (404 floor)", url: `${base}/api/nowhere` },
    { key: "profile", route: "GET /douyin/user/?user_id= (public profile)", url: `${base}/douyin/user/?user_id=${FIRST_USER_ID}` },
    { key: "me", route: "GET /api/user/me (signed in)", url: `${base}/api/user/me`, headers: bearer(tokens[0]!) },
    {
      key: "list",
      route: `GET /api/relation/following?limit=${PAGE} (signed in, profiles)`,
      url: `${base}/api/relation/following`,
      headers: bearer(tokens[0]!),
      setup: (req) => ({ ...req, path: `/api/relation/following?userId=${FIRST_USER_ID + randomInt(0, LIST_OWNERS)}&limit=${PAGE}` }),
    },
    {
      key: "follow",
      route: "POST /api/relation/follow (signed in, acked by Kafka)",
      url: `${base}/api/relation/follow`,
      method: "POST",
      setup: (req) => ({
        ...req,
        method: "POST",
        headers: { ...bearer(tokens[randomInt(0, tokens.length)]!), "content-type": "application/json" },
        body: JSON.stringify({ followUserId: FIRST_USER_ID + randomInt(half, users) }),
      }),
    },
  ];
  const results = [];
  for (const r of routes) results.push(await measure(r, { gateway: gateway.pid, user: user.child.pid, relation: relation.pid }, redis));
  const floor = results[0]!.requestsPerSecond;
  const rows = results.map((r) => ({ ...r, ratioToFloor: Number((r.requestsPerSecond / floor).toFixed(2)) }));
  const offsets = await admin.fetchTopicOffsets(topic);
  const events = offsets.reduce((n, o) => n + Number(o.high), 0);

  const pad = (s: string | number | undefined, n: number) => String(s ?? "-").padStart(n);
  process.stdout.write(
    `\ngateway-bench: ${seconds}s per route, ${connections} connections, ${users} users × ${FOLLOWS_PER_USER} follows, log level ${LOG_LEVEL}\n`,
  );
  const cpuColumns = ["gateway", "user", "relation", "redis"] as const;
  process.stdout.write(
    `${"route".padEnd(58)}${pad("req/s", 8)}${pad("p50 ms", 8)}${pad("p99 ms", 8)}${pad("× floor", 9)}${cpuColumns.map((c) => pad(`${c} µs`, 12)).join("")}${pad("non2xx", 8)}\n`,
  );
  for (const r of rows) {
    const cpu = cpuColumns.map((c) => pad((r.cpuMicrosPerRequest as Record<string, number | undefined>)[c], 12)).join("");
    process.stdout.write(
      `${r.route.padEnd(58)}${pad(r.requestsPerSecond, 8)}${pad(r.p50Ms, 8)}${pad(r.p99Ms, 8)}${pad(r.ratioToFloor, 9)}${cpu}${pad(r.non2xx, 8)}\n`,
    );
  }
  process.stdout.write(`follow events published on ${topic}: ${events}\n`);
  writeResult({ seconds, connections, users, followsPerUser: FOLLOWS_PER_USER, logLevel: LOG_LEVEL, events, results: rows });
} finally {
  await stopProcess(gateway);
  await stopProcess(relation);
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  await fixture.close();
  await redis.quit();
}
