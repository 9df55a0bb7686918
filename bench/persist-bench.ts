/**
 * The persister's speed, by hand (not in CI), against the real MariaDB, Redis
 * and Kafka of the local stack, on throwaway databases, a private Redis prefix
 * and private topics:
 *
 * 1. Persisted edges per second at batch sizes 1, 100 and 1000, beside a raw
 *    mysql2 multi-row INSERT of the same rows measured in the same run: the
 *    edge rows alone (follows + fans, per shard, no version check), and the
 *    edge rows plus the count rows the persister also writes (multi-row
 *    upserts of following_counts / follower_counts). "shards" is the
 *    persister's shard transactions alone (locked read, version-guarded
 *    upsert, counts; per shard one transaction per side), one batch after the
 *    other; "pipeline" is the consumer's batch handler on fetched batches of
 *    5,000 records split into chunks of the batch size: decode, shard
 *    transactions, then the pending compare-and-delete, the fans:{B} step and
 *    the count.changed publish (acks=all), overlapped with the next chunk's
 *    transactions, exactly as in the running persister.
 * 2. End-to-end lag at a fixed offered load: transitions produced at a steady
 *    rate to a private topic (from a worker thread, bench/lib/paced-producer.ts,
 *    so the load generator does not share the persister's event loop),
 *    consumed by an in-process persister started as the process starts it
 *    (persister.process.ts); lag = from the record's Kafka timestamp to the
 *    moment its chunk is fully persisted.
 *
 *   node --import tsx bench/persist-bench.ts [edgesPerSize=20000] [lagSeconds=20] [ratePerSecond=5000]
 *
 * COUNT_CHANGED_BATCHES=false publishes count.changed one record per change
 * (the form before count.v1.CountChangedBatch), for an A/B run.
 *
 * Each throughput run also reports the CPU µs per edge of this process (the
 * persister's code, mysql2, ioredis, kafkajs) and of MariaDB, Redis and Kafka
 * (from /proc, when the local stack started them): on a shared 2-core machine
 * that is the cost that decides throughput, and it varies less than rates.
 *
 * Prints JSON and writes it to bench/results/persist-bench.json.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createIdempotentProducer, createKafka } from "@rs/kafka";
import { createLogger } from "@rs/logger";
import { createRedis, waitForRedisReady } from "@rs/redis";
import { migrate, ShardedMysql } from "@rs/mysql";
import { infra } from "../test/infra.js";
import { createThrowawayDatabases } from "../pkg/mysql/test/throwaway-databases.js";
import { deleteKeysMatching } from "../test/support/redis-keys.js";
import { runningPid } from "../deploy/stack/processes.js";
import { cpuSeconds } from "./lib/cpu-time.js";
import { producePaced } from "./lib/paced-producer.js";
import { writeResult } from "./lib/results.js";
import { FansCache } from "../services/relation/src/adapters/redis/fans-cache.js";
import { encodePending } from "../services/relation/src/domain/relation-transition.js";
import { RelationCache } from "../services/relation/src/adapters/redis/relation-cache.js";
import { loadPersisterConfig } from "../services/relation/src/config.js";
import { CountChangedPublisher } from "../services/relation/src/persister/count-changed.publisher.js";
import type { EdgeEvent } from "../services/relation/src/persister/edge-fold.js";
import { startPersister } from "../services/relation/src/persister/persister.process.js";
import { encodeRelationEvent } from "../services/relation/src/adapters/kafka/relation-event.codec.js";
import { persisterBatchHandler } from "../services/relation/src/persister/persister-batch.handler.js";
import { RelationPersister } from "../services/relation/src/persister/relation-persister.js";

const edgesPerSize = Number(process.argv[2] ?? 20_000);
const lagSeconds = Number(process.argv[3] ?? 20);
const rate = Number(process.argv[4] ?? 5_000);
const BATCH_SIZES = [1, 100, 1_000];
/** Batch size 1 costs one set of transactions per edge: fewer edges keep the run short. */
const EDGES_AT_SIZE_1 = 1_000;
const TICK_MS = 10;
const WARMUP_S = 2;
const PARTITIONS = 8;
const POOL_SIZE = 10;
/** Records per fetched batch handed to the handler (what ~512 KiB per partition holds, rounded down). */
const FETCHED = 5_000;
/** COUNT_CHANGED_BATCHES=false: count.changed as one record per change, as before the batch form (for an A/B run). */
const countChangedBatches = process.env.COUNT_CHANGED_BATCHES !== "false";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const logger = createLogger("persist-bench", "warn");
const i = infra();
const tag = randomBytes(4).toString("hex");
const prefix = `rs:bench:persist:${tag}:`;

let nextUser = 1 + Math.floor(Math.random() * 2 ** 40);
let nextVersion = Date.now() * 1_000;
/** `n` follows of brand-new edges among a pool of fresh users (every edge a real transition). */
function freshEdges(n: number, users = 5_000): EdgeEvent[] {
  const base = nextUser;
  nextUser += users + 1;
  const out: EdgeEvent[] = [];
  const seen = new Set<string>();
  while (out.length < n) {
    const from = base + Math.floor(Math.random() * users);
    const to = base + Math.floor(Math.random() * users);
    const k = `${from}:${to}`;
    if (from === to || seen.has(k)) continue;
    seen.add(k);
    const version = ++nextVersion;
    out.push({ from, to, action: "follow", version, occurredAtMs: Math.floor(version / 1_000), source: 0 });
  }
  return out;
}

const percentile = (sorted: number[], q: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1));
const chunked = <T>(xs: readonly T[], n: number) => Array.from({ length: Math.ceil(xs.length / n) }, (_, k) => xs.slice(k * n, (k + 1) * n));

/** The same count rows the persister writes, as plain multi-row upserts (adding the batch's follows per user). */
function rawCounts(mysql: ShardedMysql, batch: readonly EdgeEvent[], owner: (e: EdgeEvent) => number, table: string, column: string): Promise<unknown>[] {
  const perUser = new Map<number, number>();
  for (const e of batch) perUser.set(owner(e), (perUser.get(owner(e)) ?? 0) + 1);
  return [...mysql.groupByShard(perUser.keys(), (u) => u)].map(([p, users]) =>
    mysql
      .pool(p)
      .query(
        `INSERT INTO ${table} (user_id, ${column}, version, updated_at) VALUES ? ON DUPLICATE KEY UPDATE ${column} = ${column} + VALUES(${column}), version = version + 1`,
        [users.map((u) => [u, perUser.get(u)!, 1, Date.now()])],
      ),
  );
}

async function rawInsertWithCounts(mysql: ShardedMysql, batch: readonly EdgeEvent[]): Promise<void> {
  await Promise.all([
    rawInsert(mysql, batch),
    ...rawCounts(mysql, batch, (e) => e.from, "following_counts", "following_count"),
    ...rawCounts(mysql, batch, (e) => e.to, "follower_counts", "follower_count"),
  ]);
}

async function rawInsert(mysql: ShardedMysql, batch: readonly EdgeEvent[]): Promise<void> {
  const work: Promise<unknown>[] = [];
  for (const [p, group] of mysql.groupByShard(batch, (e) => e.from)) {
    const rows = group.map((e) => [e.from, e.to, e.source, 1, e.occurredAtMs, e.version, e.occurredAtMs]);
    work.push(mysql.pool(p).query("INSERT INTO follows (from_user_id, to_user_id, source, status, created_at, version, updated_at) VALUES ?", [rows]));
  }
  for (const [p, group] of mysql.groupByShard(batch, (e) => e.to)) {
    const rows = group.map((e) => [e.to, e.from, e.source, 1, e.occurredAtMs, e.version, e.occurredAtMs]);
    work.push(mysql.pool(p).query("INSERT INTO fans (to_user_id, from_user_id, source, status, created_at, version, updated_at) VALUES ?", [rows]));
  }
  await Promise.all(work);
}

/**
 * What the relation service leaves in Redis for each transition before the
 * persister sees it: its pending overlay entry and its fans:{B} step. Seeded
 * (untimed) before pipeline runs, so the persister's compare-and-delete really
 * deletes and its repeated fans step is the duplicate it is in production.
 */
async function seedRelationState(edges: readonly EdgeEvent[]): Promise<void> {
  for (const part of chunked(edges, 1_000)) {
    const pipeline = redis.pipeline();
    for (const e of part)
      pipeline.hset(
        `${prefix}pending:{${e.from}}`,
        String(e.to),
        encodePending({ action: e.action, version: e.version, timeMs: e.occurredAtMs, source: e.source, prevTimeMs: 0 }),
      );
    await pipeline.exec();
    await fansCache.applyFanTransitions(part);
  }
}

/** The consumer's handler over `edges` as fetched batches, persisting in chunks of `size`. */
function handlerRun(persister: RelationPersister, size: number) {
  const handle = persisterBatchHandler({ persister, chunkEvents: size, logger });
  const ctl = { heartbeat: async () => undefined, isStopping: () => false };
  return async (batch: readonly EdgeEvent[]) => {
    const messages = batch.map((e, n) => ({
      key: Buffer.from(String(e.from)),
      value: encodeRelationEvent(e),
      timestamp: String(Date.now()),
      offset: String(n),
      attributes: 0,
      headers: {},
    }));
    await handle({ topic: "bench", partition: 0, messages, highWatermark: String(messages.length) }, ctl);
  };
}

/** The processes whose CPU per edge a throughput run reports: this one (the persister runs in it) and the stack's servers. */
const SERVERS = ["mariadb", "redis", "kafka"] as const;
const cpuNow = () => ({
  node: process.cpuUsage(),
  servers: SERVERS.map((name) => cpuSeconds(runningPid(name))),
});

/** Edges per second of `write` over `edges` in batches of `size`, and the CPU µs per edge of each process meanwhile. */
async function timed(
  edges: readonly EdgeEvent[],
  size: number,
  write: (batch: readonly EdgeEvent[]) => Promise<unknown>,
): Promise<{ eps: number; cpuMicrosPerEdge: Record<string, number> }> {
  const cpu0 = cpuNow();
  const t0 = performance.now();
  for (const batch of chunked(edges, size)) await write(batch);
  const seconds = (performance.now() - t0) / 1_000;
  const node = process.cpuUsage(cpu0.node);
  const perEdge = (us: number) => Math.round(us / edges.length);
  const cpuMicrosPerEdge: Record<string, number> = { node: perEdge(node.user + node.system) };
  cpuNow().servers.forEach((after, k) => {
    const before = cpu0.servers[k];
    if (after !== undefined && before !== undefined) cpuMicrosPerEdge[SERVERS[k]!] = perEdge((after - before) * 1e6);
  });
  return { eps: Math.round(edges.length / seconds), cpuMicrosPerEdge };
}

const migrations = [{ name: "relation", dir: path.join(ROOT, "services/relation/migrations") }];
const persisterDbs = await createThrowawayDatabases(2);
const rawDbs = await createThrowawayDatabases(2);
const kafka = createKafka({ brokers: i.kafkaBrokers, clientId: `persist-bench-${tag}`, logger });
const admin = kafka.admin();
await admin.connect();
const eventsTopic = `bench.relation-events.${tag}`;
const countsTopic = `bench.count-changed.${tag}`;
await admin.createTopics({
  waitForLeaders: true,
  topics: [eventsTopic, countsTopic].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
});
// the client the persister process opens (openRedis): auto-pipelining, fail-fast timeouts
const redis = createRedis(i.redisUrl, { logger, name: "persist-bench" });
await waitForRedisReady(redis);
const fansCache = new FansCache(redis, { keyPrefix: prefix });
const producer = await createIdempotentProducer(kafka);
const sharded = ShardedMysql.create({ dsns: persisterDbs.dsns, virtualShards: 64, poolSize: POOL_SIZE, logger });
const raw = ShardedMysql.create({ dsns: rawDbs.dsns, virtualShards: 64, poolSize: POOL_SIZE, logger });

try {
  await migrate(sharded, migrations, logger);
  await migrate(raw, migrations, logger);
  const cache = new RelationCache(redis, { keyPrefix: prefix });
  const counts = new CountChangedPublisher(producer, countsTopic, { batches: countChangedBatches });
  const persister = new RelationPersister({ mysql: sharded, cache, fans: fansCache, counts, logger });

  // Warm-up: connections, statement paths, the buffer pool.
  await timed(freshEdges(2_000), 100, (b) => rawInsert(raw, b));
  await timed(freshEdges(2_000), 1_000, handlerRun(persister, 100));

  const throughput = [];
  for (const size of BATCH_SIZES) {
    const n = size === 1 ? EDGES_AT_SIZE_1 : edgesPerSize;
    const rawRun = await timed(freshEdges(n), size, (b) => rawInsert(raw, b));
    const rawCountsRun = await timed(freshEdges(n), size, (b) => rawInsertWithCounts(raw, b));
    const shardsRun = await timed(freshEdges(n), size, (b) => persister.writeShards(b));
    const pipelineEdges = freshEdges(n);
    await seedRelationState(pipelineEdges);
    const pipelineRun = await timed(pipelineEdges, Math.max(size, FETCHED), handlerRun(persister, size));
    const [rawEps, rawCountsEps, shardsEps, pipelineEps] = [rawRun.eps, rawCountsRun.eps, shardsRun.eps, pipelineRun.eps];
    throughput.push({
      batchSize: size,
      edges: n,
      rawInsertEdgesPerSecond: rawEps,
      rawInsertWithCountsEdgesPerSecond: rawCountsEps,
      persisterShardsEdgesPerSecond: shardsEps,
      persisterPipelineEdgesPerSecond: pipelineEps,
      shardsVsRaw: Number((shardsEps / rawEps).toFixed(2)),
      pipelineVsRaw: Number((pipelineEps / rawEps).toFixed(2)),
      shardsVsRawWithCounts: Number((shardsEps / rawCountsEps).toFixed(2)),
      // CPU µs per edge of the bench process (where the persister runs) and of each server, per run
      cpuMicrosPerEdge: {
        rawInsert: rawRun.cpuMicrosPerEdge,
        rawInsertWithCounts: rawCountsRun.cpuMicrosPerEdge,
        persisterShards: shardsRun.cpuMicrosPerEdge,
        persisterPipeline: pipelineRun.cpuMicrosPerEdge,
      },
    });
  }

  // End-to-end lag at a fixed offered load, through Kafka and an in-process persister.
  const lags: { at: number; ms: number }[] = [];
  const running = await startPersister(
    loadPersisterConfig({
      MYSQL_SHARD_DSNS: persisterDbs.dsns.join(","),
      REDIS_URL: i.redisUrl,
      KAFKA_BROKERS: i.kafkaBrokers.join(","),
      LOG_LEVEL: "warn",
      RELATION_KEY_PREFIX: prefix,
      RELATION_EVENTS_TOPIC: eventsTopic,
      COUNT_CHANGED_TOPIC: countsTopic,
      PERSISTER_GROUP: `bench-persister-${tag}`,
      RECONCILE_INTERVAL_MS: "0",
      ...(process.env.PERSIST_PARTITIONS_CONCURRENTLY ? { PERSIST_PARTITIONS_CONCURRENTLY: process.env.PERSIST_PARTITIONS_CONCURRENTLY } : {}),
      COUNT_CHANGED_BATCHES: String(countChangedBatches),
    }),
    {
      logger,
      onPersisted: (_events, stamps) => {
        const now = Date.now();
        for (const ts of stamps) lags.push({ at: ts, ms: now - ts });
      },
    },
  );
  const load = freshEdges(Math.ceil(rate * lagSeconds), 50_000);
  await seedRelationState(load);
  const { startedAtMs: t0, offeredSeconds } = await producePaced({
    brokers: i.kafkaBrokers,
    topic: eventsTopic,
    events: load,
    ratePerSecond: rate,
    tickMs: TICK_MS,
  });
  const deadline = Date.now() + 60_000;
  while (lags.length < load.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await running.stop();
  const steady = lags
    .filter((l) => l.at >= t0 + WARMUP_S * 1_000)
    .map((l) => l.ms)
    .sort((a, b) => a - b);
  const all = lags.map((l) => l.ms).sort((a, b) => a - b);

  const result = {
    throughput,
    lag: {
      offeredPerSecond: rate,
      achievedOfferedPerSecond: Math.round(load.length / offeredSeconds),
      transitions: load.length,
      persisted: lags.length,
      afterWarmupMs: { p50: percentile(steady, 0.5), p99: percentile(steady, 0.99), max: steady.at(-1) ?? 0 },
      allMs: { p50: percentile(all, 0.5), p99: percentile(all, 0.99), max: all.at(-1) ?? 0 },
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  writeResult(result);
} finally {
  await producer.disconnect().catch(() => undefined);
  await admin.deleteTopics({ topics: [eventsTopic, countsTopic] }).catch(() => undefined);
  await admin.deleteGroups([`bench-persister-${tag}`]).catch(() => undefined);
  await admin.disconnect();
  await deleteKeysMatching(redis, `${prefix}*`);
  redis.disconnect();
  await sharded.close();
  await raw.close();
  await persisterDbs.drop();
  await rawDbs.drop();
}
