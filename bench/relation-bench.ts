/**
 * Speed of the relation service against the bare grpc-js echo baseline, in one
 * run with ghz (same concurrency, same duration, one after the other; docs/design.md §10):
 * IsFollowing and BatchIsFollowing(100) from warm following:{A} keys,
 * ListFollowing(20) with profiles (one BatchGetUsers) and is_follow of another
 * viewer, and Follow acknowledged after Kafka's ack (acks=all).
 *
 *   node --import tsx bench/relation-bench.ts [seconds=10] [concurrency=50] [users=10000] [followsPerUser=20]
 *
 * Needs ghz (`go install github.com/bojand/ghz/cmd/ghz@v0.121.0`) on PATH or in
 * $(go env GOPATH)/bin, and the local servers (`./dev.sh infra`). Seeds users and
 * their follows straight into two throwaway rs_test_* databases, creates a private
 * Kafka topic, starts the echo server, a second echo server that runs one trivial
 * Lua script per call (the floor of a read answered from Redis), the user service and the relation service
 * as separate processes the way the stack does (with the telemetry preload unless
 * BENCH_TELEMETRY=0), loads every following:{A} once, measures, and removes
 * everything afterwards. Each row's × echo is against an echo run measured right
 * before it (BENCH_REPEAT=N: N such pairs per row, the median pair's ratio; the
 * first echo row gives the echo's own latency and CPU). The reads' requests are fixed random messages drawn once
 * (BENCH_REQUESTS=template: ghz renders random ids for every call). BENCH_ZIPF=<s> makes the list owners Zipf-distributed
 * (hot accounts); the relation process inherits the environment, so e.g.
 * PROFILE_HOT_CACHE_SIZE=0 turns the relation's and the user service's hot profiles off. Prints a table and writes bench/results/relation-bench.json
 * (BENCH_RESULT=<name>: bench/results/<name>.json), ghz's HTML reports under bench/results/ghz/. BENCH_NODE_ARGS
 * (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) are passed to the relation process, BENCH_USER_NODE_ARGS to the
 * user service's.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createEtcd } from "@rs/discovery";
import { createServiceClient } from "@rs/grpc";
import { relationV1 } from "@rs/idl";
import { createKafka } from "@rs/kafka";
import { createLogger } from "@rs/logger";
import { migrate, ShardedMysql } from "@rs/mysql";
import { closeRedis, createRedis, waitForRedisReady } from "@rs/redis";
import { TELEMETRY_PRELOAD } from "../deploy/stack/apps.js";
import { infraEnv, ROOT } from "../deploy/stack/settings.js";
import { createThrowawayDatabases } from "../pkg/mysql/test/throwaway-databases.js";
import { freePort } from "../test/support/free-port.js";
import { deleteKeysMatching } from "../test/support/redis-keys.js";
import { spawnEchoServer, spawnReady, stopProcess } from "./lib/bench-processes.js";
import { cpuSeconds } from "./lib/cpu-time.js";
import { redisCommandsProcessed, redisProcessId } from "./lib/redis-info.js";
import { ECHO_ROW, REDIS_FLOOR_ROW } from "./lib/summary.js";
import { ghz, type GhzData, type GhzResult } from "./lib/ghz.js";
import { lcg } from "./lib/lcg.js";
import { pairedRatio } from "./lib/paired-ratio.js";
import { writeResult } from "./lib/results.js";

const seconds = Number(process.argv[2] ?? 10);
const concurrency = Number(process.argv[3] ?? 50);
const users = Number(process.argv[4] ?? 10_000);
const followsPerUser = Number(process.argv[5] ?? 20);
const withTelemetry = process.env.BENCH_TELEMETRY !== "0";
const WARMUP_SECONDS = 2;
/** Pairs (an echo run, then the row) measured per row: BENCH_REPEAT. */
const repeat = Number(process.env.BENCH_REPEAT ?? 1);
if (!Number.isSafeInteger(repeat) || repeat < 1) throw new Error(`BENCH_REPEAT must be a positive integer, got ${process.env.BENCH_REPEAT}`);
const BATCH = 100;
const PAGE = 20;
const FIRST_ID = 1_000_000_000_000;
const INSERT_CHUNK = 2_000;
const PRELOAD_CONCURRENCY = 32;
const PARTITIONS = 8;
const ZIPF_MESSAGES = 1_200;
/** Fixed request messages per read: a run of 10 s sends each a few times. */
const FIXED_MESSAGES = { isFollowing: 20_000, batch: 2_000, list: 20_000 } as const;
const logger = createLogger("relation-bench", "warn");

interface Result extends GhzResult {
  /** CPU time per call of the server called, and of the processes behind it (the machine's real cost). */
  serverCpuMicrosPerCall?: number;
  userCpuMicrosPerCall?: number;
  redisCpuMicrosPerCall?: number;
  redisCommandsPerCall?: number;
  /** ghz's own CPU per call: building the request, decoding the reply, its half of the connection. */
  clientCpuMicrosPerCall?: number;
}

const MICROS_PER_SECOND = 1e6;

/**
 * `n` draws from a Zipf distribution with exponent `s` over `users` ranks, each
 * rank mapped to a user by a fixed shuffle (so the hot users are spread over the id space).
 */
function zipfSample(s: number, users: number, n: number, rnd: () => number): number[] {
  const cumulative: number[] = [];
  let sum = 0;
  for (let r = 1; r <= users; r++) cumulative.push((sum += 1 / r ** s));
  const order = Array.from({ length: users }, (_, i) => i);
  for (let i = users - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return Array.from({ length: n }, () => {
    const x = rnd() * sum;
    let lo = 0;
    let hi = users - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return order[lo]!;
  });
}

/** `users` profiles, and `followsPerUser` persisted follows each (follows + fans rows), straight into the shards. */
async function seed(dsns: readonly string[]): Promise<void> {
  const sharded = ShardedMysql.create({ dsns, virtualShards: 64, poolSize: 4, logger });
  try {
    await migrate(
      sharded,
      [
        { name: "relation", dir: path.join(ROOT, "services/relation/migrations") },
        { name: "user", dir: path.join(ROOT, "services/user/migrations") },
      ],
      logger,
    );
    const now = Date.now();
    const ids = Array.from({ length: users }, (_, i) => FIRST_ID + i);
    const insert = async <T>(items: T[], idOf: (x: T) => number, sql: string, row: (x: T) => unknown[]) => {
      for (const [physical, group] of sharded.groupByShard(items, idOf)) {
        for (let i = 0; i < group.length; i += INSERT_CHUNK) await sharded.pool(physical).query(sql, [group.slice(i, i + INSERT_CHUNK).map(row)]);
      }
    };
    await insert(
      ids,
      (id) => id,
      "INSERT INTO users (id, username, password_hash, avatar, background_image, signature, follow_count, follower_count, created_at, updated_at) VALUES ?",
      (id) => [
        id,
        `bench_${id - FIRST_ID}`,
        "$2b$04$benchbenchbenchbenchbenchbenchbenchbenchbenchbenchbe",
        `https://img.example/${id}.png`,
        "",
        "hello",
        followsPerUser,
        followsPerUser,
        now,
        now,
      ],
    );
    const rnd = lcg(users * 31 + followsPerUser);
    const edges: { from: number; to: number; t: number }[] = [];
    for (const from of ids) {
      const mine = new Set<number>();
      while (mine.size < Math.min(followsPerUser, users - 1)) {
        const to = FIRST_ID + Math.floor(rnd() * users);
        if (to !== from) mine.add(to);
      }
      let t = now - 86_400_000;
      for (const to of mine) edges.push({ from, to, t: (t += 1_000) });
    }
    await insert(
      edges,
      (e) => e.from,
      "INSERT INTO follows (from_user_id, to_user_id, source, status, created_at, version, updated_at) VALUES ?",
      (e) => [e.from, e.to, 0, 1, e.t, 1, e.t],
    );
    await insert(
      edges,
      (e) => e.to,
      "INSERT INTO fans (to_user_id, from_user_id, source, status, created_at, version, updated_at) VALUES ?",
      (e) => [e.to, e.from, 0, 1, e.t, 1, e.t],
    );
  } finally {
    await sharded.close();
  }
}

const tag = randomBytes(4).toString("hex");
const infra = infraEnv();
const userService = `user-bench-${tag}`;
const keyPrefix = `rs:test:bench:${tag}:`;
const workerPrefix = `/rs-test/relation-bench-${tag}/ids/`;
const topic = `bench.relation-events.${tag}`;
const dbs = await createThrowawayDatabases(2);
const kafka = createKafka({ brokers: infra.KAFKA_BROKERS!.split(","), clientId: "relation-bench", logger });
const admin = kafka.admin();
await admin.connect();
let echo: ChildProcess | undefined;
let floor: ChildProcess | undefined;
let user: ChildProcess | undefined;
let relation: ChildProcess | undefined;
const dataDir = mkdtempSync(path.join(os.tmpdir(), "relation-bench-"));
try {
  await seed(dbs.dsns);
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  const nodeArgs = (entry: string, extra: string[] = []) => [
    "--import",
    "tsx",
    ...(withTelemetry ? ["--import", TELEMETRY_PRELOAD] : []),
    ...extra,
    path.join(ROOT, entry),
  ];
  const common = { ...process.env, ...infra, MYSQL_SHARD_DSNS: dbs.dsns.join(","), GRPC_HOST: "127.0.0.1", ADMIN_PORT: "0", LOG_LEVEL: "info" };

  const echoServer = await spawnEchoServer();
  echo = echoServer.child;
  // the floor of a read answered from Redis: the echo plus one script round trip per call
  const floorServer = await spawnEchoServer({ ECHO_REDIS_URL: infra.REDIS_URL });
  floor = floorServer.child;
  const userPort = await freePort();
  user = await spawnReady(
    "user",
    nodeArgs("services/user/src/main.ts", process.env.BENCH_USER_NODE_ARGS?.split(" ").filter(Boolean)),
    {
      ...common,
      GRPC_PORT: String(userPort),
      SERVICE_NAME: userService,
      REDIS_KEY_PREFIX: `${keyPrefix}user:`,
      TOKEN_REVOCATION_PREFIX: `${keyPrefix}revoked:`,
      ID_WORKER_PREFIX: workerPrefix,
      JWT_SECRET: randomBytes(32).toString("hex"),
      OTEL_SERVICE_NAME: "user",
    },
    (l) => l.includes('"msg":"serving"'),
  );
  const relationPort = await freePort();
  relation = await spawnReady(
    "relation",
    // BENCH_NODE_ARGS (e.g. --cpu-prof) go to the relation process (BENCH_USER_NODE_ARGS to the user service)
    nodeArgs("services/relation/src/main.ts", process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean)),
    {
      ...common,
      GRPC_PORT: String(relationPort),
      SERVICE_NAME: `relation-bench-${tag}`,
      USER_SERVICE_NAME: userService,
      RELATION_KEY_PREFIX: `${keyPrefix}rel:`,
      RELATION_EVENTS_TOPIC: topic,
      OTEL_SERVICE_NAME: "relation",
    },
    (l) => l.includes('"msg":"serving"'),
  );

  const echoAddr = echoServer.address;
  const floorAddr = floorServer.address;
  const relAddr = `127.0.0.1:${relationPort}`;
  // Load every following:{A} once (the cached case), and the user service's profiles with it.
  const client = createServiceClient(relationV1.RelationServiceClient, { target: { address: relAddr }, logger, deadlineMs: 30_000 });
  let next = 0;
  await Promise.all(
    Array.from({ length: PRELOAD_CONCURRENCY }, async () => {
      for (let i = next++; i < users; i = next++) {
        await client.listFollowing({ userId: FIRST_ID + i, cursor: "", limit: PAGE, viewerId: 0 });
      }
    }),
  );
  await client.close();

  // Quoted: ghz checks the data is JSON before filling the template in; proto JSON takes int64 as a string.
  const randomId = `"{{randomInt ${FIRST_ID} ${FIRST_ID + users}}}"`;
  // followers from the first half, followees from the second: never a self-follow
  const half = Math.floor(users / 2);
  const follower = `"{{randomInt ${FIRST_ID} ${FIRST_ID + half}}}"`;
  const followee = `"{{randomInt ${FIRST_ID + half} ${FIRST_ID + users}}}"`;
  // BENCH_ZIPF=<s> lists Zipf-distributed owners (rank r asked with weight 1/r^s, ranks over a
  // shuffled id order) instead of uniform ones: a few big accounts' pages take most reads, as in a
  // real feed. ghz sends an array of messages round-robin; its argument must stay below 128 KiB.
  const zipf = process.env.BENCH_ZIPF ? Number(process.env.BENCH_ZIPF) : undefined;
  const listData =
    zipf === undefined
      ? `{"user_id":${randomId},"limit":${PAGE},"viewer_id":${randomId}}`
      : JSON.stringify(
          zipfSample(zipf, users, ZIPF_MESSAGES, lcg(99)).map((rank) => ({ user_id: String(FIRST_ID + rank), limit: PAGE, viewer_id: randomId.slice(1, -1) })),
        );
  // The reads' random ids are drawn here once (seeded, uniform as ghz's randomInt) and ghz sends them as fixed
  // messages round-robin, built once as the echo's is. BENCH_REQUESTS=template has ghz render a template of
  // random ids for every call instead, which costs ghz more CPU than the relation spends on a BatchIsFollowing(100)
  // (the ghz µs column)
  const fixedRequests = process.env.BENCH_REQUESTS !== "template";
  const fixed = (name: keyof typeof FIXED_MESSAGES, message: (id: () => string) => object): GhzData => {
    const rnd = lcg(FIXED_MESSAGES[name] + name.length);
    const id = () => String(FIRST_ID + Math.floor(rnd() * users));
    const file = path.join(dataDir, `${name}.json`);
    writeFileSync(file, JSON.stringify(Array.from({ length: FIXED_MESSAGES[name] }, () => message(id))));
    return { file };
  };
  const reads = fixedRequests
    ? {
        isFollowing: fixed("isFollowing", (id) => ({ from_user_id: id(), to_user_id: id() })),
        batch: fixed("batch", (id) => ({ from_user_id: id(), to_user_ids: Array.from({ length: BATCH }, id) })),
        list: zipf === undefined ? fixed("list", (id) => ({ user_id: id(), limit: PAGE, viewer_id: id() })) : listData,
      }
    : {
        isFollowing: `{"from_user_id":${randomId},"to_user_id":${randomId}}`,
        batch: `{"from_user_id":${randomId},"to_user_ids":[${Array(BATCH).fill(randomId).join(",")}]}`,
        list: listData,
      };
  const runs = {
    echo: [echoAddr, "echo.v1.EchoService.Echo", JSON.stringify({ message: "hi" })],
    floor: [floorAddr, "echo.v1.EchoService.Echo", JSON.stringify({ message: "hi" })],
    isFollowing: [relAddr, "relation.v1.RelationService.IsFollowing", reads.isFollowing],
    batch: [relAddr, "relation.v1.RelationService.BatchIsFollowing", reads.batch],
    list: [relAddr, "relation.v1.RelationService.ListFollowing", reads.list],
    // a random follower and followee among warm users: almost every call is a real transition (published, acked);
    // a template, so that no pair repeats
    follow: [relAddr, "relation.v1.RelationService.Follow", `{"from_user_id":${follower},"to_user_id":${followee},"source":1}`],
  } as const;
  const redisPid = await redisProcessId(infra.REDIS_URL!);
  const measure = async (name: string, [addr, call, data]: readonly [string, string, GhzData]) => {
    ghz(`${name} (warm-up)`, addr, call, data, { seconds: WARMUP_SECONDS, concurrency, reportErrors: true });
    const server = addr === echoAddr ? echo : addr === floorAddr ? floor : relation;
    const pids = [server?.pid, user?.pid, redisPid];
    const before = pids.map((pid) => cpuSeconds(pid));
    const clientBefore = cpuSeconds("self", true);
    const commandsBefore = await redisCommandsProcessed(infra.REDIS_URL!);
    const result: Result = ghz(name, addr, call, data, { seconds, concurrency, reportErrors: true });
    const after = pids.map((pid) => cpuSeconds(pid));
    const clientAfter = cpuSeconds("self", true);
    const calls = result.rps * seconds;
    // every Redis command of the relation and user processes (and the two INFO calls) per call
    result.redisCommandsPerCall = calls === 0 ? undefined : Number((((await redisCommandsProcessed(infra.REDIS_URL!)) - commandsBefore) / calls).toFixed(2));
    const perCall = (i: number) => {
      const [b, a] = [before[i], after[i]];
      return b === undefined || a === undefined || calls === 0 ? undefined : Math.round(((a - b) * MICROS_PER_SECOND) / calls);
    };
    result.serverCpuMicrosPerCall = perCall(0);
    if (clientBefore !== undefined && clientAfter !== undefined && calls > 0)
      result.clientCpuMicrosPerCall = Math.round(((clientAfter - clientBefore) * MICROS_PER_SECOND) / calls);
    if (addr !== echoAddr) result.redisCpuMicrosPerCall = perCall(2);
    if (addr === relAddr) result.userCpuMicrosPerCall = perCall(1);
    return result;
  };
  // Each row runs right after an echo run of its own, BENCH_REPEAT times (default 1): its × echo is the median
  // pair's (bench/lib/paired-ratio.ts), as the machine's speed drifts within a run.
  const paired = async (name: string, run: (typeof runs)[keyof typeof runs]) => {
    const pairs = [];
    for (let i = 0; i < repeat; i++) pairs.push({ echo: await measure(`${ECHO_ROW} before ${name}`, runs.echo), row: await measure(name, run) });
    const p = pairedRatio(pairs);
    // the median pair's echo, whose moment the row shares (its p99 and ghz's CPU per call are the row's own floor)
    const { rps, p99Ms, serverCpuMicrosPerCall, clientCpuMicrosPerCall } = p.echo;
    return { ...p.median, ratioToEcho: p.ratio, pairedRatios: p.ratios, pairedEcho: { rps, p99Ms, serverCpuMicrosPerCall, clientCpuMicrosPerCall } };
  };
  // BENCH_ONLY=isFollowing,follow measures only those (the echo baseline and the Redis floor always run)
  const only = process.env.BENCH_ONLY?.split(",");
  const pick = async (key: keyof typeof runs, name: string) => (only && !only.includes(key) ? [] : [await paired(name, runs[key])]);
  const echoResult = await measure(ECHO_ROW, runs.echo);
  const rows = [
    { ...echoResult, ratioToEcho: 1 },
    await paired(REDIS_FLOOR_ROW, runs.floor),
    ...(await pick("isFollowing", "IsFollowing (cached)")),
    ...(await pick("batch", `BatchIsFollowing(${BATCH}) (cached)`)),
    ...(await pick("list", `ListFollowing(${PAGE}) + profiles`)),
    ...(await pick("follow", "Follow (acked by Kafka)")),
  ];
  const offsets = await admin.fetchTopicOffsets(topic);
  const events = offsets.reduce((n, o) => n + Number(o.high), 0);

  const pad = (s: string | number, n: number) => String(s).padStart(n);
  process.stdout.write(
    `\nrelation-bench: ${seconds}s per run, concurrency ${concurrency}, ${users} users × ${followsPerUser} follows, telemetry ${withTelemetry ? "on" : "off"}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"})\n`,
  );
  process.stdout.write(
    `${"call".padEnd(34)}${pad("req/s", 9)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("× echo", 9)}${pad("srv µs/call", 13)}${pad("user µs", 9)}${pad("redis µs", 10)}${pad("cmds", 7)}${pad("ghz µs", 9)}${pad("errors", 8)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.name.padEnd(34)}${pad(r.rps, 9)}${pad(r.p50Ms, 9)}${pad(r.p99Ms, 9)}${pad(r.ratioToEcho, 9)}${pad(r.serverCpuMicrosPerCall ?? "-", 13)}${pad(r.userCpuMicrosPerCall ?? "-", 9)}${pad(r.redisCpuMicrosPerCall ?? "-", 10)}${pad(r.redisCommandsPerCall ?? "-", 7)}${pad(r.clientCpuMicrosPerCall ?? "-", 9)}${pad(r.errors, 8)}\n`,
    );
  }
  for (const r of rows) {
    if ("pairedRatios" in r && r.pairedRatios.length > 1)
      process.stdout.write(`${r.name}: × its own echo run, per pair: ${r.pairedRatios.join(", ")} (median ${r.ratioToEcho})\n`);
  }
  process.stdout.write(`events published on ${topic}: ${events}\n`);
  writeResult({
    seconds,
    concurrency,
    users,
    followsPerUser,
    telemetry: withTelemetry,
    zipf,
    requests: fixedRequests ? "fixed" : "template",
    repeat,
    events,
    results: rows,
  });
} finally {
  await stopProcess(relation);
  await stopProcess(user);
  await stopProcess(echo);
  await stopProcess(floor);
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  const redis = createRedis(infra.REDIS_URL!, { logger, name: "relation-bench-cleanup" });
  await waitForRedisReady(redis);
  await deleteKeysMatching(redis, `*${keyPrefix}*`);
  await closeRedis(redis);
  const etcd = createEtcd(infra.ETCD_ENDPOINTS!.split(","));
  await etcd.delete().prefix(`/rs-test/relation-bench-${tag}/`);
  etcd.close();
  await dbs.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
