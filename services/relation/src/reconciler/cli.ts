/**
 * The reconciler as a command, for operators (after a disaster, or to check):
 *
 *   node --import tsx services/relation/src/reconciler/cli.ts [options]
 *
 *   --dry-run             report only, change nothing (takes no lock, needs no Kafka)
 *   --checks a,b          any of pending,edges,counts,counters,profiles,cached (default: all, in that order);
 *                         counters = the count service's store, profiles = users.follow_count/follower_count,
 *                         both against the shards' following_counts/follower_counts; cached = the cached
 *                         lists in Redis (following:{A}, fans:{B}) against the shards, a sample of them
 *   --cached-sample F     share of the cached lists the cached check compares (0..1, default 0.05; 1 = all)
 *   --rebuild-counts      rebuild the count store and the profile counters from the shards: the
 *                         counters and profiles checks with no grace period, progress on stderr
 *                         (shard, count, user reached). Writes only what differs, with the shards'
 *                         versions: safe to stop and run again (--shards skips finished shards)
 *   --shards 0,1          physical shards to scan (default: all)
 *   --batch-rows N        rows per keyset step (default RECONCILE_BATCH_ROWS)
 *   --grace-ms N          leave differences younger than this alone (default RECONCILE_GRACE_MS)
 *   --pause-ms N          pause between steps (default RECONCILE_PAUSE_MS)
 *   --json                print the report as JSON instead of text
 *
 * Connection settings come from the environment, exactly as for the persister
 * (MYSQL_SHARD_DSNS, REDIS_URL, KAFKA_BROKERS, RELATION_KEY_PREFIX,
 * COUNT_CHANGED_TOPIC, COUNT_KEY_PREFIX, USER_REDIS_KEY_PREFIX, ...). Exit status: 0 done (nothing found, or all
 * repaired), 2 a dry run found divergence, 3 another reconciler holds the
 * lock, 1 error.
 */
import { parseArgs } from "node:util";
import { createIdempotentProducer, createKafka, type IdempotentProducer } from "@rs/kafka";
import { createLogger } from "@rs/logger";
import { ShardedMysql } from "@rs/mysql";
import { closeRedis, createRedis, waitForRedisReady } from "@rs/redis";
import { FansCache } from "../adapters/redis/fans-cache.js";
import { RelationCache } from "../adapters/redis/relation-cache.js";
import { loadPersisterConfig } from "../config.js";
import { CountChangedPublisher, type CountChangeSink } from "../persister/count-changed.publisher.js";
import { RelationPersister } from "../persister/relation-persister.js";
import { downstreamStores } from "./downstream-stores.js";
import type { ReconcileProgress } from "./reconcile-context.js";
import { formatReport, totalFound } from "./report-builder.js";
import { DOWNSTREAM_CHECKS, RECONCILE_CHECKS, ReconcileBusyError, Reconciler, type ReconcileCheck } from "./reconciler.js";

const EXIT_DIVERGENCE = 2;
const EXIT_BUSY = 3;

function intFlag(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${raw}`);
  return n;
}

function listFlag<T extends string>(name: string, raw: string | undefined, allowed?: readonly T[]): T[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = allowed ? items.filter((i) => !allowed.includes(i as T)) : [];
  if (bad.length > 0 || items.length === 0) throw new Error(`--${name} takes a comma-separated list${allowed ? ` of ${allowed.join(", ")}` : ""}`);
  return items as T[];
}

const formatProgress = (p: ReconcileProgress) =>
  `rebuild ${p.check} ${p.name} shard ${p.physical}: through user ${p.through} (${p.scanned} compared, ${p.written} written)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "dry-run": { type: "boolean", default: false },
      "rebuild-counts": { type: "boolean", default: false },
      checks: { type: "string" },
      shards: { type: "string" },
      "batch-rows": { type: "string" },
      "grace-ms": { type: "string" },
      "pause-ms": { type: "string" },
      "cached-sample": { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  const config = loadPersisterConfig();
  const dryRun = values["dry-run"] === true;
  const rebuild = values["rebuild-counts"] === true;
  if (rebuild && values.checks !== undefined) throw new Error("--rebuild-counts runs the counters and profiles checks; it takes no --checks");
  const checks = rebuild ? [...DOWNSTREAM_CHECKS] : listFlag<ReconcileCheck>("checks", values.checks, RECONCILE_CHECKS);
  const shards = listFlag<string>("shards", values.shards)?.map((s) => intFlag("shards", s, 0));
  const batchRows = intFlag("batch-rows", values["batch-rows"], config.RECONCILE_BATCH_ROWS);
  // A rebuild writes the shards' own (value, version): a count.changed still on its way carries the same or newer.
  const graceMs = rebuild ? 0 : intFlag("grace-ms", values["grace-ms"], config.RECONCILE_GRACE_MS);
  const pauseMs = intFlag("pause-ms", values["pause-ms"], config.RECONCILE_PAUSE_MS);
  if (batchRows < 1) throw new Error("--batch-rows must be at least 1");
  const cachedSample = values["cached-sample"] === undefined ? undefined : Number(values["cached-sample"]);
  if (cachedSample !== undefined && !(cachedSample > 0 && cachedSample <= 1)) throw new Error("--cached-sample takes a share above 0 and at most 1");

  const logger = createLogger("reconciler", process.env.LOG_LEVEL ?? "warn");
  const mysql = ShardedMysql.fromConfig(config, logger);
  const redis = createRedis(config.REDIS_URL, { logger, name: "reconciler" });
  let producer: IdempotentProducer | undefined;
  try {
    await waitForRedisReady(redis);
    for (const p of shards ?? []) mysql.pool(p); // refuses an unknown shard before any work
    // A dry run publishes nothing, so it does not need Kafka at all.
    let counts: CountChangeSink = { publish: async () => undefined };
    if (!dryRun) {
      producer = await createIdempotentProducer(createKafka({ brokers: config.KAFKA_BROKERS, clientId: "reconciler", logger }));
      counts = new CountChangedPublisher(producer, config.COUNT_CHANGED_TOPIC);
    }
    const cacheOpts = {
      keyPrefix: config.RELATION_KEY_PREFIX,
      ttlMs: config.CACHE_TTL_MS,
      ttlJitterMs: config.CACHE_TTL_JITTER_MS,
      emptyTtlMs: config.CACHE_EMPTY_TTL_MS,
    };
    const cache = new RelationCache(redis, cacheOpts);
    const fans = new FansCache(redis, { ...cacheOpts, windowSize: config.FANS_WINDOW, tombstoneLimit: config.FANS_TOMBSTONES });
    const txn = { txnAttempts: config.PERSIST_TXN_ATTEMPTS, lockWaitTimeoutS: config.PERSIST_LOCK_WAIT_TIMEOUT_S };
    const persister = new RelationPersister({ mysql, cache, fans, counts, logger, ...txn });
    const downstream = downstreamStores(config, mysql, redis, logger);
    const reconciler = new Reconciler({
      mysql,
      redis,
      cache,
      persister,
      counts,
      logger,
      downstream,
      ...txn,
      ...(cachedSample !== undefined ? { cachedListsSample: cachedSample } : {}),
    });
    const progress = rebuild ? (p: ReconcileProgress) => process.stderr.write(`${formatProgress(p)}\n`) : undefined;
    const report = await reconciler.run({ dryRun, checks, shards, batchRows, graceMs, pauseMs, progress });
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
    return dryRun && totalFound(report) > 0 ? EXIT_DIVERGENCE : 0;
  } finally {
    await producer?.disconnect().catch(() => undefined);
    await closeRedis(redis).catch(() => undefined);
    await mysql.close().catch(() => undefined);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`reconciler: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof ReconcileBusyError ? EXIT_BUSY : 1);
  },
);
