/**
 * The persistence pipeline against the real servers, isolated per test file:
 * throwaway shard databases (relation, count and user schemas), private topics for
 * relation events and count changes, a unique Redis prefix and private consumer
 * groups. Also a model of the follow graph to produce transitions from and to
 * check the stores against, and a snapshot of every row for replay checks.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RedisClient } from "@rs/redis";
import { decodeCountChangedMessage, type CountChangedRecord } from "@rs/idl";
import { createIdempotentProducer, createKafka, runBatchConsumer, type IdempotentProducer, type Kafka } from "@rs/kafka";
import { createLogger } from "@rs/logger";
import { migrate, ShardedMysql, type RowDataPacket } from "@rs/mysql";
import { infra } from "../../../test/infra.js";
import { waitFor } from "../../../test/support/wait-for.js";
import { createThrowawayDatabases, type ThrowawayDatabases } from "../../../pkg/mysql/test/throwaway-databases.js";
import { loadPersisterConfig, type PersisterConfig } from "../src/config.js";
import type { EdgeEvent } from "../src/persister/edge-fold.js";
import { encodeRelationEvent } from "../src/adapters/kafka/relation-event.codec.js";
import { redisFixture, type RedisFixture } from "./redis-fixture.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SHARDS = 2;
export const PARTITIONS = 8;
const POLL_MS = 100;

export const logger = createLogger("persister-test", process.env.TEST_LOG_LEVEL ?? "silent");

export interface PipelineWorld {
  readonly tag: string;
  readonly dbs: ThrowawayDatabases;
  readonly sharded: ShardedMysql;
  readonly redis: RedisFixture;
  readonly admin: RedisClient;
  readonly kafka: Kafka;
  readonly kafkaAdmin: ReturnType<Kafka["admin"]>;
  readonly eventsTopic: string;
  readonly countsTopic: string;
  readonly producer: IdempotentProducer;
  /** The persister's environment (no topics or group of anyone else). */
  env(overrides?: Record<string, string>): Record<string, string>;
  config(overrides?: Record<string, string>): PersisterConfig;
  /** A private consumer group name (deleted at clean-up). */
  group(label: string): string;
  /** Publishes transitions keyed by the follower, as the relation service does. */
  produce(events: readonly EdgeEvent[]): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createPipelineWorld(label: string): Promise<PipelineWorld> {
  const tag = `${label}-${randomBytes(4).toString("hex")}`;
  const dbs = await createThrowawayDatabases(SHARDS);
  const sharded = ShardedMysql.create({ dsns: dbs.dsns, virtualShards: 64, poolSize: 4, logger });
  await migrate(
    sharded,
    [
      { name: "count", dir: path.join(HERE, "../../count/migrations") },
      { name: "relation", dir: path.join(HERE, "../migrations") },
      // The copies of the counts the reconciler checks (users' counters): every shard database holds all schemas.
      { name: "user", dir: path.join(HERE, "../../user/migrations") },
    ],
    logger,
  );
  const redis = redisFixture();
  const admin = redis.client();
  const kafka = createKafka({ brokers: infra().kafkaBrokers, clientId: `rs-persister-test-${tag}`, logger });
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const eventsTopic = `test.relation-events.${tag}`;
  const countsTopic = `test.count-changed.${tag}`;
  await kafkaAdmin.createTopics({
    waitForLeaders: true,
    topics: [eventsTopic, countsTopic].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
  });
  const producer = await createIdempotentProducer(kafka);
  const groups: string[] = [];
  const i = infra();
  const env = (overrides: Record<string, string> = {}) => ({
    MYSQL_SHARD_DSNS: dbs.dsns.join(","),
    REDIS_URL: i.redisUrl,
    KAFKA_BROKERS: i.kafkaBrokers.join(","),
    ADMIN_PORT: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    RELATION_KEY_PREFIX: redis.prefix,
    COUNT_KEY_PREFIX: `${redis.prefix}cnt:`,
    USER_REDIS_KEY_PREFIX: `${redis.prefix}user:`,
    RELATION_EVENTS_TOPIC: eventsTopic,
    COUNT_CHANGED_TOPIC: countsTopic,
    PERSISTER_GROUP: `test-persister-${tag}`,
    RECONCILE_INTERVAL_MS: "0",
    // The broker's minimum: a member that died is noticed quickly.
    KAFKA_SESSION_TIMEOUT_MS: "6000",
    ...overrides,
  });
  groups.push(env().PERSISTER_GROUP);

  return {
    tag,
    dbs,
    sharded,
    redis,
    admin,
    kafka,
    kafkaAdmin,
    eventsTopic,
    countsTopic,
    producer,
    env,
    config: (overrides) => loadPersisterConfig(env(overrides)),
    group(l) {
      const g = `test-${l}-${tag}-${randomBytes(3).toString("hex")}`;
      groups.push(g);
      return g;
    },
    async produce(events) {
      await producer.send(
        eventsTopic,
        events.map((e) => ({ key: String(e.from), value: encodeRelationEvent(e) })),
      );
    },
    async cleanup() {
      await producer.disconnect().catch(() => undefined);
      await kafkaAdmin.deleteGroups(groups).catch(() => undefined);
      await kafkaAdmin.deleteTopics({ topics: [eventsTopic, countsTopic] }).catch(() => undefined);
      await kafkaAdmin.disconnect();
      await sharded.close();
      await redis.cleanup();
      await dbs.drop();
    },
  };
}

/**
 * The follow graph as the relation service would see it: random follow and
 * unfollow transitions among `users`, each a real change with a version from
 * the follower's strictly increasing counter.
 */
export class GraphModel {
  readonly users: number[];
  private readonly edges = new Map<string, { active: boolean; version: number }>();
  private readonly counters = new Map<number, number>();

  constructor(userCount: number, base = 1 + Math.floor(Math.random() * 2 ** 40)) {
    this.users = Array.from({ length: userCount }, (_, i) => base + i * 7919);
  }

  private nextVersion(a: number): number {
    // Microsecond-like, as the relation service issues them.
    const v = Math.max((this.counters.get(a) ?? 0) + 1, Date.now() * 1_000);
    this.counters.set(a, v);
    return v;
  }

  /** `n` random transitions (a toggle of a random edge each). */
  transitions(n: number, random: () => number = Math.random): EdgeEvent[] {
    const out: EdgeEvent[] = [];
    for (let i = 0; i < n; i++) {
      const from = this.users[Math.floor(random() * this.users.length)]!;
      let to = this.users[Math.floor(random() * this.users.length)]!;
      if (to === from) to = this.users[(this.users.indexOf(from) + 1) % this.users.length]!;
      const k = `${from}:${to}`;
      const active = !(this.edges.get(k)?.active ?? false);
      const version = this.nextVersion(from);
      this.edges.set(k, { active, version });
      out.push({ from, to, action: active ? "follow" : "unfollow", version, occurredAtMs: Math.floor(version / 1_000), source: 1 });
    }
    return out;
  }

  /** Records a transition that reached the stores another way (e.g. repaired from the pending overlay). */
  record(e: EdgeEvent): void {
    this.edges.set(`${e.from}:${e.to}`, { active: e.action === "follow", version: e.version });
    this.counters.set(e.from, Math.max(this.counters.get(e.from) ?? 0, e.version));
  }

  /** Active edges `from:to`. */
  activeEdges(): Set<string> {
    return new Set([...this.edges].filter(([, e]) => e.active).map(([k]) => k));
  }

  /** Newest version per edge `from:to`. */
  versions(): Map<string, number> {
    return new Map([...this.edges].map(([k, e]) => [k, e.version]));
  }

  followingCounts(): Map<number, number> {
    const m = new Map<number, number>();
    for (const k of this.activeEdges()) {
      const from = Number(k.split(":")[0]);
      m.set(from, (m.get(from) ?? 0) + 1);
    }
    return m;
  }

  followerCounts(): Map<number, number> {
    const m = new Map<number, number>();
    for (const k of this.activeEdges()) {
      const to = Number(k.split(":")[1]);
      m.set(to, (m.get(to) ?? 0) + 1);
    }
    return m;
  }
}

export interface StoreSnapshot {
  /** `from:to` → `status|version|created_at|updated_at|source`, per table. */
  readonly follows: Map<string, string>;
  readonly fans: Map<string, string>;
  /** user → `value|version`. */
  readonly following: Map<number, string>;
  readonly follower: Map<number, string>;
}

/** Every relation row of every shard, in comparable form. */
export async function snapshot(sharded: ShardedMysql): Promise<StoreSnapshot> {
  const s: StoreSnapshot = { follows: new Map(), fans: new Map(), following: new Map(), follower: new Map() };
  await sharded.forEachShard(async (pool) => {
    const row = (r: RowDataPacket) => `${r.status}|${r.version}|${r.created_at}|${r.updated_at}|${r.source}`;
    const [follows] = await pool.query<RowDataPacket[]>("SELECT * FROM follows");
    for (const r of follows) s.follows.set(`${r.from_user_id}:${r.to_user_id}`, row(r));
    const [fans] = await pool.query<RowDataPacket[]>("SELECT * FROM fans");
    for (const r of fans) s.fans.set(`${r.from_user_id}:${r.to_user_id}`, row(r));
    const [fc] = await pool.query<RowDataPacket[]>("SELECT * FROM following_counts");
    for (const r of fc) s.following.set(Number(r.user_id), `${r.following_count}|${r.version}`);
    const [rc] = await pool.query<RowDataPacket[]>("SELECT * FROM follower_counts");
    for (const r of rc) s.follower.set(Number(r.user_id), `${r.follower_count}|${r.version}`);
  });
  return s;
}

/** What differs between the stores and the model (empty = they agree exactly). */
export function differences(s: StoreSnapshot, model: GraphModel): string[] {
  const out: string[] = [];
  const versions = model.versions();
  const active = model.activeEdges();
  for (const [k, v] of versions) {
    for (const [table, rows] of [
      ["follows", s.follows],
      ["fans", s.fans],
    ] as const) {
      const r = rows.get(k);
      const [status, version] = (r ?? "").split("|").map(Number);
      if (!r) out.push(`${table} ${k}: missing (want v${v})`);
      else if (version !== v || (status === 1) !== active.has(k)) out.push(`${table} ${k}: status ${status} v${version}, want ${active.has(k) ? 1 : 0} v${v}`);
    }
  }
  if (s.follows.size !== versions.size) out.push(`follows has ${s.follows.size} rows, model ${versions.size}`);
  if (s.fans.size !== versions.size) out.push(`fans has ${s.fans.size} rows, model ${versions.size}`);
  for (const [name, want, have] of [
    ["following", model.followingCounts(), s.following],
    ["follower", model.followerCounts(), s.follower],
  ] as const) {
    for (const u of model.users) {
      const stored = Number((have.get(u) ?? "0|0").split("|")[0]);
      if (stored !== (want.get(u) ?? 0)) out.push(`${name} count of ${u}: ${stored}, want ${want.get(u) ?? 0}`);
    }
  }
  return out;
}

/** Polls until the stores agree with the model; returns the last differences on timeout. */
export async function waitForConvergence(sharded: ShardedMysql, model: GraphModel, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const diff = differences(await snapshot(sharded), model);
    if (diff.length === 0 || Date.now() > deadline) return diff;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A reader of the count.changed topic from its start: every change it got, in arrival order. */
export interface CountsReader {
  readonly records: CountChangedRecord[];
  /** Waits until it has read every record the topic holds now (each partition up to its high watermark). */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function readCounts(w: PipelineWorld): Promise<CountsReader> {
  const records: CountChangedRecord[] = [];
  const readUpTo = new Map<number, number>();
  const consumer = await runBatchConsumer({
    kafka: w.kafka,
    groupId: w.group("counts-reader"),
    topics: w.countsTopic,
    fromBeginning: true,
    logger,
    async handle(batch) {
      for (const m of batch.messages) {
        // as the consumers read them: a batch record's changes, or a single change
        const d = decodeCountChangedMessage(m);
        if (d.refused.length > 0) throw new Error(`unreadable count.changed record at offset ${m.offset}: ${d.refused.join("; ")}`);
        records.push(...d.changes);
        readUpTo.set(batch.partition, Math.max(readUpTo.get(batch.partition) ?? 0, Number(m.offset) + 1));
      }
    },
  });
  return {
    records,
    async caughtUp(timeoutMs = 15_000) {
      const high = await w.kafkaAdmin.fetchTopicOffsets(w.countsTopic);
      await waitFor(
        `the count.changed reader to reach the high watermarks`,
        () => high.every((p) => (readUpTo.get(p.partition) ?? 0) >= Number(p.high)),
        timeoutMs,
      );
    },
    stop: () => consumer.stop(),
  };
}

const RECONCILER_CLI = path.resolve(HERE, "../src/reconciler/cli.ts");
const REPO_ROOT = path.resolve(HERE, "../../..");

/** Runs the reconciler command (`services/relation/src/reconciler/cli.ts`) with the world's persister environment plus `env`. */
export function runReconcilerCli(
  w: PipelineWorld,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", RECONCILER_CLI, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", ...w.env({ LOG_LEVEL: "error", ...env }) },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
