/**
 * The whole suite (or a chosen part of it) as child processes, started exactly
 * as the local stack starts them (deploy/stack/apps.ts appSpec: tsx + the
 * telemetry preload), on free ports, against the real infrastructure but with
 * state of its own: throwaway shard databases, its own Kafka topics, consumer
 * groups and etcd service names, and a Redis key prefix. `stop()` removes all
 * of it again.
 */
import { randomBytes } from "node:crypto";
import { APPS, appSpec } from "../../deploy/stack/apps.js";
import { migrateAll } from "../../deploy/stack/migrate.js";
import { createKafka } from "../../pkg/kafka/src/index.js";
import { createLogger } from "../../pkg/logger/src/index.js";
import { createThrowawayDatabases } from "../../pkg/mysql/test/throwaway-databases.js";
import { closeRedis, createRedis } from "../../pkg/redis/src/index.js";
import { infra } from "../infra.js";
import { spawnTracked, stopChild } from "./child-processes.js";
import { freePort } from "./free-port.js";
import { deleteKeysMatching } from "./redis-keys.js";

/** Process names of deploy/stack/apps.ts. */
export type AppName = "user" | "count" | "relation" | "relation-persister" | "count-consumer" | "user-consumer" | "gateway";

export const ALL_APPS: readonly AppName[] = ["user", "count", "relation", "relation-persister", "count-consumer", "user-consumer", "gateway"];

export type Env = Readonly<Record<string, string>>;

export interface SuiteOptions {
  /** Short name in the topic, consumer group, etcd and Redis key names of this suite (e.g. "tracetest"). */
  readonly label: string;
  /** Which processes to start; all of them by default. */
  readonly apps?: readonly AppName[];
  /** Extra environment of every process (e.g. OTEL_* variables); wins over the suite's own. */
  readonly env?: Env;
  /** Extra environment of single processes; wins over `env`. */
  readonly envFor?: Partial<Record<AppName, Env>>;
  /** Partitions of the relation events topic (8, as in the local stack, by default). */
  readonly relationEventPartitions?: number;
  /** How long every process has to report ready. */
  readonly readyTimeoutMs?: number;
  /** Processes of an app (1 by default); gateways after the first share the first one's HTTP port (SO_REUSEPORT). */
  readonly processes?: Partial<Record<AppName, number>>;
}

export interface SuiteProcess {
  readonly name: AppName;
  /** Port of /healthz, /readyz and /metrics. */
  readonly adminPort: number;
  /** The gRPC or HTTP port it serves, if any. */
  readonly port?: number;
  readonly child: ReturnType<typeof spawnTracked>["child"];
  /** The last lines it printed, for error messages. */
  readonly output: readonly string[];
}

export interface Suite {
  /** A random hex string that names this suite's state. */
  readonly tag: string;
  /** http://127.0.0.1:<port> of the gateway (empty when it was not started). */
  readonly gatewayUrl: string;
  /** Every started process by name (the first, when several run). */
  readonly processes: ReadonlyMap<AppName, SuiteProcess>;
  /** Every started process of each app, in start order (see {@link SuiteOptions.processes}). */
  readonly instances: ReadonlyMap<AppName, readonly SuiteProcess[]>;
  readonly topics: { readonly relationEvents: string; readonly countChanged: string };
  /** Consumer group of each Kafka consumer process. */
  readonly groups: { readonly persister: string; readonly countConsumer: string; readonly userConsumer: string };
  /** etcd names of the rpc services. */
  readonly serviceNames: { readonly user: string; readonly relation: string; readonly count: string };
  /** Prefix of every Redis key the suite's processes write. */
  readonly keyPrefix: string;
  /** Prefix of the relation keys (following:{A}, pending:{A}, ...). */
  readonly relationKeyPrefix: string;
  readonly shardDsns: readonly string[];
  /** http://127.0.0.1:<admin port> of a started process. */
  adminUrl(name: AppName): string;
  /** Stops the processes, then deletes the topics, databases and keys. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_READY_TIMEOUT_MS = 60_000;
const POLL_MS = 100;
const RELATION_EVENT_PARTITIONS = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the processes of `options.apps` and waits until every one reports
 * ready. On failure everything started so far is removed before it throws.
 */
export async function startSuite(options: SuiteOptions): Promise<Suite> {
  const { label } = options;
  const apps = options.apps ?? ALL_APPS;
  const tag = randomBytes(5).toString("hex");
  const keyPrefix = `${label}:${tag}:`;
  const relationKeyPrefix = `${keyPrefix}rel:`;
  const topics = { relationEvents: `${label}.relation.events.${tag}`, countChanged: `${label}.count.changed.${tag}` };
  const groups = {
    persister: `relation-persister-${label}-${tag}`,
    countConsumer: `count-consumer-${label}-${tag}`,
    userConsumer: `user-consumer-${label}-${tag}`,
  };
  const serviceNames = { user: `user-${label}-${tag}`, relation: `relation-${label}-${tag}`, count: `count-${label}-${tag}` };
  const processes = new Map<AppName, SuiteProcess>();
  const instances = new Map<AppName, SuiteProcess[]>();
  const cleanup: Array<() => Promise<unknown>> = [];
  let shardDsns: readonly string[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
    })());

  try {
    const i = infra();
    const logger = createLogger(label, "error");
    const redis = createRedis(i.redisUrl, { logger, name: `${label}-${tag}` });
    cleanup.push(async () => {
      // `*…*`: the user service's bloom keys begin with their hash tag, `{<prefix>user:bloom}:0`
      await deleteKeysMatching(redis, `*${keyPrefix}*`);
      await closeRedis(redis);
    });

    const dbs = await createThrowawayDatabases(2);
    cleanup.push(() => dbs.drop());
    await migrateAll({ dsns: dbs.dsns });
    shardDsns = dbs.dsns;

    const kafka = createKafka({ brokers: i.kafkaBrokers, clientId: `${label}-${tag}`, logger });
    const admin = kafka.admin();
    await admin.connect();
    cleanup.push(async () => {
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.disconnect();
    });
    await admin.createTopics({
      topics: [
        { topic: topics.relationEvents, numPartitions: options.relationEventPartitions ?? RELATION_EVENT_PARTITIONS, replicationFactor: 1 },
        { topic: topics.countChanged, numPartitions: 1, replicationFactor: 1 },
      ],
      waitForLeaders: true,
    });

    // Processes stop before the topics, databases and keys they use go.
    cleanup.push(() => Promise.all([...instances.values()].flat().map((p) => stopChild(p.child))));

    const common: Env = {
      MYSQL_SHARD_DSNS: dbs.dsns.join(","),
      REDIS_URL: i.redisUrl,
      ETCD_ENDPOINTS: i.etcdEndpoints.join(","),
      KAFKA_BROKERS: i.kafkaBrokers.join(","),
      JWT_SECRET: randomBytes(32).toString("base64url"),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
      TOKEN_REVOCATION_PREFIX: `${keyPrefix}revoked:`,
    };
    const relationCache = { RELATION_KEY_PREFIX: relationKeyPrefix, RELATION_EVENTS_TOPIC: topics.relationEvents };
    const userStore = { REDIS_KEY_PREFIX: `${keyPrefix}user:` };
    const countCache = { COUNT_KEY_PREFIX: `${keyPrefix}count:` };
    const own: Record<AppName, Env> = {
      user: { ...userStore, SERVICE_NAME: serviceNames.user, BCRYPT_COST: "4", COUNT_CHANGED_TOPIC: topics.countChanged },
      count: { ...countCache, SERVICE_NAME: serviceNames.count },
      relation: { ...relationCache, SERVICE_NAME: serviceNames.relation, USER_SERVICE_NAME: serviceNames.user, KAFKA_CLIENT_ID: `relation-${label}-${tag}` },
      "relation-persister": {
        ...relationCache,
        ...countCache,
        USER_REDIS_KEY_PREFIX: userStore.REDIS_KEY_PREFIX,
        PERSISTER_GROUP: groups.persister,
        COUNT_CHANGED_TOPIC: topics.countChanged,
        RECONCILE_INTERVAL_MS: "0",
      },
      "count-consumer": { ...countCache, COUNT_CHANGED_TOPIC: topics.countChanged, COUNT_CONSUMER_GROUP: groups.countConsumer },
      "user-consumer": { ...userStore, COUNT_CHANGED_TOPIC: topics.countChanged, USER_CONSUMER_GROUP: groups.userConsumer },
      gateway: {
        HTTP_HOST: "127.0.0.1",
        USER_SERVICE_NAME: serviceNames.user,
        RELATION_SERVICE_NAME: serviceNames.relation,
        COUNT_SERVICE_NAME: serviceNames.count,
        RATE_LIMIT_KEY_PREFIX: `${keyPrefix}rl:`,
      },
    };

    for (const name of apps) {
      const env = { ...common, ...own[name], ...options.env, ...options.envFor?.[name] };
      const first = await spawnApp(name, env);
      const all = [first];
      processes.set(name, first);
      instances.set(name, all);
      for (let k = 1; k < (options.processes?.[name] ?? 1); k++) all.push(await spawnApp(name, env, name === "gateway" ? first.port : undefined));
    }
    const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    await Promise.all([...instances.values()].flat().map((p) => waitReady(p, readyTimeoutMs)));
  } catch (err) {
    await stop();
    throw err;
  }

  const gateway = processes.get("gateway");
  return {
    tag,
    gatewayUrl: gateway ? `http://127.0.0.1:${gateway.port}` : "",
    processes,
    instances,
    topics,
    groups,
    serviceNames,
    keyPrefix,
    relationKeyPrefix,
    shardDsns,
    adminUrl(name) {
      const p = processes.get(name);
      if (!p) throw new Error(`${name} was not started`);
      return `http://127.0.0.1:${p.adminPort}`;
    },
    stop,
  };
}

/** Starts one process of `name`; `port`: the port to serve on (shared with another gateway), else a free one. */
async function spawnApp(name: AppName, env: Env, sharedPort?: number): Promise<SuiteProcess> {
  const app = APPS.find((a) => a.name === name);
  if (!app) throw new Error(`no app ${name} in deploy/stack/apps.ts`);
  const adminPort = await freePort();
  const port = app.port ? (sharedPort ?? (await freePort())) : undefined;
  const spec = appSpec(
    { ...app, admin: { ...app.admin, port: adminPort }, ...(app.port && port !== undefined ? { port: { ...app.port, port } } : {}) },
    env.JWT_SECRET ?? "",
  );
  const { child, output } = spawnTracked(spec.command, spec.args, { ...process.env, ...spec.env, ...env }, spec.cwd);
  return { name, adminPort, ...(port !== undefined ? { port } : {}), child, output };
}

async function waitReady(p: SuiteProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}):\n${p.output.join("\n")}`);
    const ok = await fetch(`http://127.0.0.1:${p.adminPort}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(POLL_MS);
  }
  throw new Error(`${p.name} not ready in ${timeoutMs} ms:\n${p.output.slice(-40).join("\n")}`);
}
