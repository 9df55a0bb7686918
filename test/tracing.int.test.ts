/**
 * DESIGN.md §6: one follow through the gateway yields ONE trace that spans the
 * gateway's HTTP server, the relation service's gRPC server, Redis, the Kafka
 * produce, and the persister's consume with its MySQL writes, exported by
 * OTLP. The real entry points run as child processes exactly as the local
 * stack starts them (deploy/stack/apps.ts appSpec: tsx + the telemetry
 * preload), on free ports, exporting to a collector inside this test.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPS, appSpec } from "../deploy/stack/apps.js";
import { migrateAll } from "../deploy/stack/migrate.js";
import { createKafka } from "../pkg/kafka/src/index.js";
import { createLogger } from "../pkg/logger/src/index.js";
import { createThrowawayDatabases } from "../pkg/mysql/test/throwaway-databases.js";
import { closeRedis, createRedis } from "../pkg/redis/src/index.js";
import { infra } from "./infra.js";
import { spawnTracked, stopChild } from "./support/child-processes.js";
import { freePort } from "./support/free-port.js";
import { deleteKeysMatching } from "./support/redis-keys.js";
import { OTLP_SPAN_KIND, startOtlpCollector, type CollectedSpan, type OtlpCollector } from "./support/otlp-collector.js";

const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 100;
const TRACE_TIMEOUT_MS = 20_000;
/** Export spans quickly (the SDK's default batch delay is 5 s). */
const BSP_DELAY_MS = "100";
const RELATION_EVENT_PARTITIONS = 8;
const PASSWORD = "trace-secret-pw";

const tag = randomBytes(5).toString("hex");
const keyPrefix = `tracetest:${tag}:`;
const topics = { relationEvents: `tracetest.relation.events.${tag}`, countChanged: `tracetest.count.changed.${tag}` };
const names = { user: `user-tracetest-${tag}`, relation: `relation-tracetest-${tag}`, count: `count-tracetest-${tag}` };

interface Child {
  readonly name: string;
  readonly adminPort: number;
  readonly spawned: ReturnType<typeof spawnTracked>;
}

const cleanup: Array<() => Promise<unknown>> = [];
const children: Child[] = [];
let collector: OtlpCollector;
let gatewayUrl: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function spawnApp(name: string, env: Record<string, string>, listenPort?: number): Promise<Child> {
  const app = APPS.find((a) => a.name === name);
  if (!app) throw new Error(`no app ${name} in deploy/stack/apps.ts`);
  const adminPort = await freePort();
  const spec = appSpec(
    {
      ...app,
      admin: { ...app.admin, port: adminPort },
      ...(app.port && listenPort !== undefined ? { port: { ...app.port, port: listenPort } } : {}),
    },
    env.JWT_SECRET ?? "",
  );
  const spawned = spawnTracked(spec.command, spec.args, { ...process.env, ...spec.env, ...env }, spec.cwd);
  const child = { name, adminPort, spawned };
  children.push(child);
  return child;
}

async function waitReady(c: Child): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (c.spawned.child.exitCode !== null) throw new Error(`${c.name} exited (${c.spawned.child.exitCode}):\n${c.spawned.output.join("\n")}`);
    const ok = await fetch(`http://127.0.0.1:${c.adminPort}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(POLL_MS);
  }
  throw new Error(`${c.name} not ready in ${READY_TIMEOUT_MS} ms:\n${c.spawned.output.slice(-40).join("\n")}`);
}

async function post(path: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gatewayUrl}/api${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  collector = await startOtlpCollector();
  cleanup.push(() => collector.close());
  const i = infra();

  const logger = createLogger("tracetest", "error");
  const redis = createRedis(i.redisUrl, { logger, name: `tracetest-${tag}` });
  cleanup.push(async () => {
    await deleteKeysMatching(redis, `${keyPrefix}*`);
    await closeRedis(redis);
  });

  const dbs = await createThrowawayDatabases(2);
  cleanup.push(() => dbs.drop());
  await migrateAll({ dsns: dbs.dsns });

  const kafka = createKafka({ brokers: i.kafkaBrokers, clientId: `tracetest-${tag}`, logger });
  const admin = kafka.admin();
  await admin.connect();
  cleanup.push(async () => {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  });
  await admin.createTopics({
    topics: [
      { topic: topics.relationEvents, numPartitions: RELATION_EVENT_PARTITIONS, replicationFactor: 1 },
      { topic: topics.countChanged, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });

  // Children stop before the topics, databases and keys they use go.
  cleanup.push(() => Promise.all(children.map((c) => stopChild(c.spawned.child))));

  const common = {
    MYSQL_SHARD_DSNS: dbs.dsns.join(","),
    REDIS_URL: i.redisUrl,
    ETCD_ENDPOINTS: i.etcdEndpoints.join(","),
    KAFKA_BROKERS: i.kafkaBrokers.join(","),
    JWT_SECRET: randomBytes(32).toString("base64url"),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: BSP_DELAY_MS,
    TOKEN_REVOCATION_PREFIX: `${keyPrefix}revoked:`,
  };
  const relationCache = { RELATION_KEY_PREFIX: `${keyPrefix}rel:`, RELATION_EVENTS_TOPIC: topics.relationEvents };

  const started = [
    await spawnApp("user", { ...common, SERVICE_NAME: names.user, REDIS_KEY_PREFIX: `${keyPrefix}user:`, BCRYPT_COST: "4", COUNT_CHANGED_TOPIC: topics.countChanged }, await freePort()),
    await spawnApp(
      "relation",
      { ...common, ...relationCache, SERVICE_NAME: names.relation, USER_SERVICE_NAME: names.user, KAFKA_CLIENT_ID: `relation-tracetest-${tag}` },
      await freePort(),
    ),
    await spawnApp("relation-persister", {
      ...common,
      ...relationCache,
      PERSISTER_GROUP: `relation-persister-tracetest-${tag}`,
      COUNT_CHANGED_TOPIC: topics.countChanged,
      RECONCILE_INTERVAL_MS: "0",
    }),
  ];
  const gatewayPort = await freePort();
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  started.push(
    await spawnApp(
      "gateway",
      {
        ...common,
        HTTP_HOST: "127.0.0.1",
        USER_SERVICE_NAME: names.user,
        RELATION_SERVICE_NAME: names.relation,
        COUNT_SERVICE_NAME: names.count,
        RATE_LIMIT_KEY_PREFIX: `${keyPrefix}rl:`,
      },
      gatewayPort,
    ),
  );
  await Promise.all(started.map(waitReady));
}, 90_000);

afterAll(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

/** Spans of `traceId` until `done` holds for them (the exporters send in batches). */
async function traceUntil(traceId: string, done: (spans: CollectedSpan[]) => boolean): Promise<CollectedSpan[]> {
  const deadline = Date.now() + TRACE_TIMEOUT_MS;
  for (;;) {
    const spans = collector.spans.filter((s) => s.traceId === traceId);
    if (done(spans) || Date.now() > deadline) return spans;
    await sleep(POLL_MS);
  }
}

const describeSpans = (spans: readonly CollectedSpan[]) => spans.map((s) => `${s.service} ${s.kind} ${s.scope} ${s.name}`).join("\n");

describe("one follow, one trace (DESIGN.md §6)", () => {
  it("links the gateway, the relation gRPC server, Redis, the Kafka produce and the persister's consume and MySQL writes", async () => {
    const register = async (label: string) => {
      const r = await post("/user/register", { username: `tr${label}${tag}`, password: PASSWORD });
      expect(r.status).toBe(201);
      return { id: Number(r.body.userId), token: String(r.body.token) };
    };
    const [a, b] = [await register("a"), await register("b")];
    const traceparentId = randomBytes(16).toString("hex");
    // The test starts the trace itself (W3C traceparent), so it knows the id to look for.
    const res = await fetch(`${gatewayUrl}/api/relation/follow`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${a.token}`,
        traceparent: `00-${traceparentId}-${randomBytes(8).toString("hex")}-01`,
      },
      body: JSON.stringify({ followUserId: b.id }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: true, changed: true });

    const has = {
      gatewayHttp: (s: CollectedSpan) => s.service === "gateway" && s.kind === OTLP_SPAN_KIND.server && s.scope.includes("http"),
      relationGrpc: (s: CollectedSpan) => s.service === "relation" && s.kind === OTLP_SPAN_KIND.server && s.scope.includes("grpc"),
      relationRedis: (s: CollectedSpan) => s.service === "relation" && s.scope.includes("ioredis"),
      produce: (s: CollectedSpan) => s.service === "relation" && s.kind === OTLP_SPAN_KIND.producer && s.attributes["messaging.destination.name"] === topics.relationEvents,
      consume: (s: CollectedSpan) => s.service === "relation-persister" && s.kind === OTLP_SPAN_KIND.consumer && s.attributes["messaging.destination.name"] === topics.relationEvents,
      // a write, not just the session set-up
      persisterMysql: (s: CollectedSpan) => s.service === "relation-persister" && s.scope.includes("mysql2") && /^INSERT/i.test(s.name),
    };
    const all = (spans: CollectedSpan[]) => Object.values(has).every((p) => spans.some(p));
    const spans = await traceUntil(traceparentId, all);
    const missing = Object.entries(has)
      .filter(([, p]) => !spans.some(p))
      .map(([k]) => k);
    expect(missing, `trace ${traceparentId} has:\n${describeSpans(spans)}\n\nall spans:\n${describeSpans(collector.spans)}`).toEqual([]);

    // The chain is parent-linked, not just sharing an id: every span but the
    // gateway's entry has its parent inside the trace, and each hop descends
    // from the one before it.
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const orphans = spans.filter((s) => !byId.has(s.parentSpanId) && !has.gatewayHttp(s));
    expect(orphans.map((s) => `${s.service} ${s.name}`)).toEqual([]);
    const descends = (s: CollectedSpan, ancestor: (a: CollectedSpan) => boolean): boolean => {
      for (let p = byId.get(s.parentSpanId); p; p = byId.get(p.parentSpanId)) if (ancestor(p)) return true;
      return false;
    };
    const pick = (p: (s: CollectedSpan) => boolean) => spans.filter(p);
    expect(pick(has.relationGrpc).some((s) => descends(s, has.gatewayHttp))).toBe(true);
    expect(pick(has.relationRedis).some((s) => descends(s, has.relationGrpc))).toBe(true);
    expect(pick(has.produce).some((s) => descends(s, has.relationGrpc))).toBe(true);
    expect(pick(has.consume).some((s) => descends(s, has.produce))).toBe(true);
    expect(pick(has.persisterMysql).some((s) => descends(s, has.consume))).toBe(true);
  });
});
