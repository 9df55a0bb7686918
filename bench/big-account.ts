/**
 * A big account: ListFans pages at depth ~900 000 of a user with 1 000 000
 * fans, and the user's counts, through the real relation, user and count
 * services (issue 10's target: p99 ≤ 20 ms).
 *
 *   ./dev.sh bench big-account [fans=1000000] [seconds=10] [concurrencies=10,50] [--load-only] [--reload] [--drop] [--walk]
 *
 * Data: two databases of their own on the local MariaDB, `rs_bench_big_account_0`
 * and `_1` (the shards), filled by bench/lib/big-account-data.ts in bulk (a
 * progress bar on stderr) and KEPT, so later runs reuse them: a marker table
 * written after the last row says the load finished and how long it took. A
 * run without the marker, with another fan count, or with `--reload` drops and
 * loads them again; `--drop` removes them and exits. `--load-only` loads and
 * exits (the load needs no bench lock; the measurement does:
 * `flock /tmp/bench.lock ./dev.sh bench big-account`).
 *
 * Measurement: the user, count and relation services started from their entry
 * points as the stack runs them (private etcd names, Redis prefixes and Kafka
 * topic). The depth-900k cursors are real ones: the row at position 899 900 is
 * read from the shard and encoded as the service encodes cursors, then pages of
 * 100 are asked of the relation service and the `next_cursor` of each page at
 * 900 000, 900 100, … is kept (checked against the row at that position).
 * `--walk` also pages from the first page down to 900 000 (9 000 calls of 100)
 * and checks it arrives at the same cursor. Then ghz, per concurrency: the bare
 * grpc-js echo (the machine's own latency at that concurrency), ListFans(20)
 * round-robin over those cursors (viewer: the big account), ListFans(20) first
 * page (the fans:{B} window, for comparison), and GetCounts of the big account;
 * CPU per call of each process on the path (relation, user, count, Redis,
 * MariaDB). Beside it the fans-shard query alone (RelationReadsRepository.fansAfter
 * at those cursors, sequential) with its EXPLAIN and ANALYZE. Prints a table
 * and writes bench/results/big-account.json (bench/lib/results.ts). BENCH_NODE_ARGS
 * (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) are passed to the relation process.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createServiceClient } from "@rs/grpc";
import { relationV1 } from "@rs/idl";
import { createKafka } from "@rs/kafka";
import { createLogger } from "@rs/logger";
import { migrate, ShardedMysql, type RowDataPacket } from "@rs/mysql";
import { TELEMETRY_PRELOAD } from "../deploy/stack/apps.js";
import { infraEnv, ROOT } from "../deploy/stack/settings.js";
import { RelationReadsRepository } from "../services/relation/src/adapters/mysql/relation-reads.repository.js";
import { decodeCursor, encodeCursor, type CursorPosition } from "../services/relation/src/domain/cursor.js";
import { freePort } from "../test/support/free-port.js";
import { BIG_USER_ID, fanAtPosition, loadBigAccount, type LoadReport } from "./lib/big-account-data.js";
import { removeBenchState } from "./lib/bench-cleanup.js";
import { spawnEchoServer, spawnReady, stopProcess } from "./lib/bench-processes.js";
import { cpuSeconds } from "./lib/cpu-time.js";
import { ghz, type GhzResult } from "./lib/ghz.js";
import { redisProcessId } from "./lib/redis-info.js";
import { duration, ProgressBar } from "./lib/progress-bar.js";
import { writeResult } from "./lib/results.js";
import { ECHO_ROW } from "./lib/summary.js";

const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith("--")));
const [fansArg, secondsArg, concurrencyArg] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const fans = Number(fansArg ?? 1_000_000);
const seconds = Number(secondsArg ?? 10);
const concurrencies = (concurrencyArg ?? "10,50").split(",").map(Number);
const withTelemetry = process.env.BENCH_TELEMETRY !== "0";
const DEPTH = Math.min(900_000, fans - 10_000);
const WALK_PAGE = 100;
const PAGE = 20;
/** Cursors at DEPTH, DEPTH + 100, …: the pages ghz asks for, round-robin. */
const CURSORS = 50;
const SQL_RUNS = 1_000;
const WARMUP_SECONDS = 2;
const MICROS = 1e6;
const DB_PREFIX = "rs_bench_big_account_";
const SHARDS = 2;
const logger = createLogger("big-account", "warn");
const infra = infraEnv();

// ---------------------------------------------------------------- the data

const base = infra.MYSQL_SHARD_DSNS!.split(",")[0]!;
const names = Array.from({ length: SHARDS }, (_, i) => `${DB_PREFIX}${i}`);
const dsns = names.map((name) => Object.assign(new URL(base), { pathname: `/${name}` }).toString());
/** Statements outside the two databases (create, drop, the marker), on the server's first shard database. */
const server = ShardedMysql.create({ dsns: [base], virtualShards: 64, poolSize: 1, logger });
const admin = server.pool(0);
const db = (name: string) => `\`${name}\``;

interface Marker extends RowDataPacket {
  fans: number;
  rows: number;
  load_seconds: number;
  loaded_at: number;
}

/** The finished load's marker, if both databases exist and a load of `fans` finished. */
async function finishedLoad(): Promise<Marker | undefined> {
  try {
    const [rows] = await admin.query<Marker[]>(`SELECT fans, \`rows\`, load_seconds, loaded_at FROM ${db(names[0]!)}.bench_big_account`);
    return rows[0]?.fans === fans ? rows[0] : undefined;
  } catch {
    return undefined;
  }
}

async function dropDatabases(): Promise<void> {
  for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${db(name)}`);
}

/** Loads the data unless a finished load of the same size is there; says which. */
async function ensureData(): Promise<{ reused: boolean } & Omit<LoadReport, "rowsPerTable">> {
  const found = flags.has("--reload") ? undefined : await finishedLoad();
  if (found) {
    process.stderr.write(`big-account: reusing ${names.join(", ")} (${fans} fans, loaded ${new Date(found.loaded_at).toISOString()})\n`);
    return { reused: true, rows: found.rows, seconds: found.load_seconds, rowsPerSecond: Math.round(found.rows / found.load_seconds) };
  }
  await dropDatabases();
  for (const name of names) await admin.query(`CREATE DATABASE ${db(name)} CHARACTER SET utf8mb4`);
  const sharded = ShardedMysql.create({ dsns, virtualShards: 64, poolSize: 4, queryTimeoutMs: 120_000, logger });
  try {
    await migrate(
      sharded,
      ["relation", "user", "count"].map((name) => ({ name, dir: path.join(ROOT, `services/${name}/migrations`) })),
      logger,
    );
    const report = await loadBigAccount(sharded, fans);
    process.stderr.write(
      `big-account: ${report.rows} rows in ${duration(report.seconds)} (${report.rowsPerSecond} rows/s): ${JSON.stringify(report.rowsPerTable)}\n`,
    );
    await admin.query(
      `CREATE TABLE ${db(names[0]!)}.bench_big_account (fans BIGINT NOT NULL, \`rows\` BIGINT NOT NULL, load_seconds DOUBLE NOT NULL, loaded_at BIGINT NOT NULL)`,
    );
    await admin.query(`INSERT INTO ${db(names[0]!)}.bench_big_account VALUES (?, ?, ?, ?)`, [fans, report.rows, report.seconds, Date.now()]);
    return { reused: false, rows: report.rows, seconds: report.seconds, rowsPerSecond: report.rowsPerSecond };
  } finally {
    await sharded.close();
  }
}

if (flags.has("--drop")) {
  await dropDatabases();
  await server.close();
  process.stderr.write(`big-account: dropped ${names.join(", ")}\n`);
  process.exit(0);
}
const load = await ensureData();
if (flags.has("--load-only")) {
  await server.close();
  process.exit(0);
}

// ---------------------------------------------------------------- the services

/** The pid of the MariaDB server (same machine), for its CPU per call. */
async function mariadbPid(): Promise<number | undefined> {
  const [rows] = await admin.query<(RowDataPacket & { f: string })[]>("SELECT @@pid_file AS f");
  try {
    return Number(readFileSync(rows[0]!.f, "utf8").trim());
  } catch {
    return undefined;
  }
}

const tag = randomBytes(4).toString("hex");
const keyPrefix = `rs:test:bench:${tag}:`;
const etcdPrefix = `/rs-test/big-account-${tag}/`;
const topic = `bench.relation-events.${tag}`;
const kafka = createKafka({ brokers: infra.KAFKA_BROKERS!.split(","), clientId: "big-account", logger });
const kafkaAdmin = kafka.admin();
const children: ChildProcess[] = [];

/** Starts one service from its entry point on a free port; resolves with its address once it serves. */
async function startService(name: string, entry: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; address: string }> {
  const port = await freePort();
  // BENCH_NODE_ARGS (e.g. --cpu-prof --cpu-prof-dir=DIR) go to the relation process only
  const extra = name === "relation" ? (process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []) : [];
  const args = ["--import", "tsx", ...(withTelemetry ? ["--import", TELEMETRY_PRELOAD] : []), ...extra, path.join(ROOT, entry)];
  const child = await spawnReady(
    name,
    args,
    {
      ...process.env,
      ...infra,
      MYSQL_SHARD_DSNS: dsns.join(","),
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: String(port),
      ADMIN_PORT: "0",
      LOG_LEVEL: "info",
      OTEL_SERVICE_NAME: name,
      SERVICE_NAME: `${name}-bench-${tag}`,
      ...env,
    },
    (l) => l.includes('"msg":"serving"'),
  );
  children.push(child);
  return { child, address: `127.0.0.1:${port}` };
}

const shards = ShardedMysql.create({ dsns, virtualShards: 64, poolSize: 4, queryTimeoutMs: 60_000, logger });
const reads = new RelationReadsRepository(shards);

/** The fan row at 1-based `position` of the big account's newest-first list, read from the shard (OFFSET: for the bench only). */
async function rowAt(position: number): Promise<CursorPosition> {
  const [rows] = await shards
    .poolFor(BIG_USER_ID)
    .query<(RowDataPacket & { from_user_id: number; created_at: number })[]>(
      "SELECT from_user_id, created_at FROM fans WHERE to_user_id = ? AND status = 1 ORDER BY created_at DESC, from_user_id DESC LIMIT 1 OFFSET ?",
      [BIG_USER_ID, position - 1],
    );
  const r = rows[0];
  if (!r) throw new Error(`no fan at position ${position}`);
  return { timeMs: Number(r.created_at), id: Number(r.from_user_id) };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`big-account: ${what}`);
}

type RelationClient = ReturnType<typeof createServiceClient<relationV1.RelationServiceClient>>;

/** One page of 100 after `cursor`, checked to start at `firstPosition`; returns the service's next cursor. */
async function pageFrom(client: RelationClient, cursor: string, firstPosition: number): Promise<string> {
  const page = await client.listFans({ userId: BIG_USER_ID, cursor, limit: WALK_PAGE, viewerId: 0 });
  check(page.users.length === WALK_PAGE && page.nextCursor !== "", `a full page after position ${firstPosition - 1}`);
  check(Number(page.users[0]!.id) === fanAtPosition(fans, firstPosition), `the fan at position ${firstPosition}`);
  check(Number(page.totalCount) === fans, `total ${page.totalCount} = ${fans}`);
  return page.nextCursor;
}

/** The service's cursors at DEPTH, DEPTH + 100, …, starting from the row at DEPTH − 100 as a client would have left it. */
async function cursorsAtDepth(client: RelationClient): Promise<string[]> {
  let cursor = encodeCursor(await rowAt(DEPTH - WALK_PAGE));
  const out: string[] = [];
  for (let k = 0; k < CURSORS; k++) {
    cursor = await pageFrom(client, cursor, DEPTH - WALK_PAGE + 1 + k * WALK_PAGE);
    out.push(cursor);
  }
  const atDepth = decodeCursor(out[0]!);
  const expected = await rowAt(DEPTH);
  check(atDepth.id === expected.id && atDepth.timeMs === expected.timeMs, `cursor at ${DEPTH} names the row at ${DEPTH}`);
  return out;
}

/** Pages from the first page down to DEPTH; returns the cursor there and how long it took. */
async function walk(client: RelationClient): Promise<{ cursor: string; seconds: number; pages: number }> {
  const pages = DEPTH / WALK_PAGE;
  const bar = new ProgressBar("walk", pages, "pages");
  let cursor = "";
  for (let p = 0; p < pages; p++) {
    cursor = await pageFrom(client, cursor, p * WALK_PAGE + 1);
    bar.add(1);
  }
  return { cursor, seconds: Number(bar.finish().toFixed(1)), pages };
}

const percentile = (sorted: number[], q: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2));

/** The fans-shard read alone, as the relation service runs it (sequential), and the plan of its statement. */
async function fansShardQuery(cursors: readonly CursorPosition[]): Promise<Record<string, unknown>> {
  const ms: number[] = [];
  for (let k = 0; k < SQL_RUNS; k++) {
    const t0 = performance.now();
    await reads.fansAfter(BIG_USER_ID, cursors[k % cursors.length], PAGE + 1);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  // the statement fansAfter sends, captured from a pool that records it
  let captured: { sql: string; params: unknown[] } | undefined;
  const recording = {
    poolFor: (id: number) => ({
      query: (sql: string, params: unknown[]) => ((captured = { sql, params }), shards.poolFor(id).query(sql, params)),
    }),
  } as unknown as ShardedMysql;
  await new RelationReadsRepository(recording).fansAfter(BIG_USER_ID, cursors[0], PAGE + 1);
  const pool = shards.poolFor(BIG_USER_ID);
  const [explain] = await pool.query<RowDataPacket[]>(`EXPLAIN ${captured!.sql}`, captured!.params);
  const [analyze] = await pool.query<RowDataPacket[]>(`ANALYZE FORMAT=JSON ${captured!.sql}`, captured!.params);
  const plan = JSON.parse(String(Object.values(analyze[0]!)[0])) as unknown;
  return { runs: SQL_RUNS, p50Ms: percentile(ms, 0.5), p99Ms: percentile(ms, 0.99), sql: captured!.sql.replace(/\s+/g, " "), explain, analyze: plan };
}

interface Result extends GhzResult {
  concurrency: number;
  cpuMicrosPerCall: Record<string, number | undefined>;
}

const rpcPids: Record<string, number | undefined> = {};

function measure(what: string, address: string, call: string, data: string, concurrency: number): Result {
  const name = `${what}, c=${concurrency}`;
  ghz(`${name} (warm-up)`, address, call, data, { seconds: WARMUP_SECONDS, concurrency, reportErrors: true });
  const before = Object.entries(rpcPids).map(([k, pid]) => [k, cpuSeconds(pid)] as const);
  const r = ghz(name, address, call, data, { seconds, concurrency, reportErrors: true });
  const calls = r.rps * seconds;
  const cpu = Object.fromEntries(
    before.map(([k, b]) => {
      const a = cpuSeconds(rpcPids[k]);
      return [k, a === undefined || b === undefined || calls === 0 ? undefined : Math.round(((a - b) * MICROS) / calls)];
    }),
  );
  return { ...r, concurrency, cpuMicrosPerCall: cpu };
}

try {
  await kafkaAdmin.connect();
  await kafkaAdmin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
  const user = await startService("user", "services/user/src/main.ts", {
    REDIS_KEY_PREFIX: `${keyPrefix}user:`,
    TOKEN_REVOCATION_PREFIX: `${keyPrefix}revoked:`,
    ID_WORKER_PREFIX: `${etcdPrefix}ids/`,
    JWT_SECRET: randomBytes(32).toString("hex"),
  });
  const count = await startService("count", "services/count/src/main.ts", { COUNT_KEY_PREFIX: `${keyPrefix}count:` });
  const relation = await startService("relation", "services/relation/src/main.ts", {
    USER_SERVICE_NAME: `user-bench-${tag}`,
    RELATION_KEY_PREFIX: `${keyPrefix}rel:`,
    RELATION_EVENTS_TOPIC: topic,
  });
  Object.assign(rpcPids, {
    relation: relation.child.pid,
    user: user.child.pid,
    count: count.child.pid,
    redis: await redisProcessId(infra.REDIS_URL!),
    mariadb: await mariadbPid(),
  });

  const client = createServiceClient(relationV1.RelationServiceClient, { target: { address: relation.address }, logger, deadlineMs: 30_000 });
  const walked = flags.has("--walk") ? await walk(client) : undefined;
  const cursors = await cursorsAtDepth(client);
  if (walked) check(walked.cursor === cursors[0], `the walk from the first page reaches the cursor at ${DEPTH}`);
  await client.close();
  process.stderr.write(
    `big-account: ${cursors.length} cursors at positions ${DEPTH}…${DEPTH + (CURSORS - 1) * WALK_PAGE}${walked ? `; walk: ${walked.pages} pages in ${walked.seconds} s` : ""}\n`,
  );

  const sql = await fansShardQuery(cursors.map(decodeCursor));
  const big = `"${BIG_USER_ID}"`;
  const deep = JSON.stringify(cursors.map((cursor) => ({ user_id: String(BIG_USER_ID), cursor, limit: PAGE, viewer_id: String(BIG_USER_ID) })));
  // the bare grpc-js echo at the same concurrencies: the machine's own latency tail, the floor of every p99 here
  const echo = await spawnEchoServer();
  children.push(echo.child);
  const results: Result[] = [];
  for (const c of concurrencies) {
    results.push(
      measure(ECHO_ROW, echo.address, "echo.v1.EchoService.Echo", JSON.stringify({ message: "hi" }), c),
      measure(`ListFans(${PAGE}) at depth ${DEPTH}`, relation.address, "relation.v1.RelationService.ListFans", deep, c),
      measure(
        `ListFans(${PAGE}) first page`,
        relation.address,
        "relation.v1.RelationService.ListFans",
        `{"user_id":${big},"limit":${PAGE},"viewer_id":${big}}`,
        c,
      ),
      measure("GetCounts (big account)", count.address, "count.v1.CountService.GetCounts", `{"user_id":${big}}`, c),
    );
  }

  const pad = (s: string | number | undefined, n: number) => String(s ?? "-").padStart(n);
  const procs = Object.keys(rpcPids);
  process.stdout.write(
    `\nbig-account: ${fans} fans, ${seconds}s per run, telemetry ${withTelemetry ? "on" : "off"}, ${os.cpus().length} CPUs; data ${load.reused ? "reused" : "loaded"} (load ${load.rows} rows in ${duration(load.seconds)})\n`,
  );
  process.stdout.write(`fans-shard query alone: p50 ${sql.p50Ms as number} ms, p99 ${sql.p99Ms as number} ms\n`);
  process.stdout.write(
    `${"call".padEnd(40)}${pad("c", 4)}${pad("req/s", 8)}${pad("p50 ms", 8)}${pad("p99 ms", 8)}${procs.map((p) => pad(`${p} µs`, 12)).join("")}${pad("errors", 8)}\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(40)}${pad(r.concurrency, 4)}${pad(r.rps, 8)}${pad(r.p50Ms, 8)}${pad(r.p99Ms, 8)}${procs.map((p) => pad(r.cpuMicrosPerCall[p], 12)).join("")}${pad(r.errors, 8)}\n`,
    );
  }
  writeResult({
    command: `./dev.sh bench big-account ${process.argv.slice(2).join(" ")}`.trim(),
    fans,
    depth: DEPTH,
    pageLimit: PAGE,
    seconds,
    telemetry: withTelemetry,
    load,
    walk: walked,
    fansShardQuery: sql,
    results,
  });
} finally {
  for (const child of children.reverse()) await stopProcess(child);
  await kafkaAdmin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await kafkaAdmin.disconnect();
  await removeBenchState(keyPrefix, etcdPrefix, logger);
  await shards.close();
  await server.close();
}
