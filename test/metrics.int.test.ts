/**
 * The metric contract (docs/metrics.md) under real traffic: the whole suite
 * runs as child processes (test/support/suite.ts), traffic goes through the
 * gateway (register, a login burst that hits the auth limiter, follows,
 * lists, counts, an unmatched path), and every process's /metrics is scraped
 * until each series of the contract exists there and has moved since the
 * scrape before the traffic. Then, with the persister stopped, follows pile up
 * in the pending overlay and relation_pending_transitions shows them.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopChild } from "./support/child-processes.js";
import { parsePrometheusText, sampleSum, samplesOf, type Sample } from "./support/prometheus-text.js";
import { ALL_APPS, startSuite, type AppName, type Suite } from "./support/suite.js";

const POLL_MS = 250;
const READY_TIMEOUT_MS = 90_000;
const METRICS_TIMEOUT_MS = 30_000;
const PASSWORD = "metrics-secret-pw";
const RELATION_EVENT_PARTITIONS = 8;
/** More login attempts than the auth limiter's burst (10 by default). */
const LOGIN_BURST = 14;

const tag = randomBytes(4).toString("hex");
let suite: Suite | undefined;
/** Every process's metrics before any traffic. */
let before: Scrapes;
type User = { readonly id: number; readonly token: string };
/** Registered up front: registering counts against the auth limiter that the login burst empties. */
let users: Record<"a" | "b" | "c" | "p1" | "p2" | "p3", User>;

type Scrapes = ReadonlyMap<AppName, readonly Sample[]>;

async function scrape(s: Suite, names: readonly AppName[]): Promise<Scrapes> {
  const entries = await Promise.all(
    names.map(async (name) => {
      const res = await fetch(`${s.adminUrl(name)}/metrics`, { signal: AbortSignal.timeout(5_000) });
      return [name, parsePrometheusText(await res.text())] as const;
    }),
  );
  return new Map(entries);
}

async function api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${suite!.gatewayUrl}${path}`, {
    method,
    headers: { ...(body ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function register(label: string): Promise<User> {
  const r = await api("POST", "/api/user/register", { username: `mt${label}${tag}`, password: PASSWORD });
  expect(r.status).toBe(201);
  return { id: Number(r.body.userId), token: String(r.body.token) };
}

/** One expectation of the contract: in which process, and whether it holds now against the scrape before the traffic. */
interface Check {
  readonly process: AppName;
  readonly what: string;
  holds(now: readonly Sample[], before: readonly Sample[]): boolean;
}

/** The sum of `name`{labels} grew since the scrape before the traffic (a counter, or a histogram's `_count`). */
const grew = (process: AppName, name: string, labels: Record<string, string> = {}): Check => ({
  process,
  what: `${name}${JSON.stringify(labels)} increased`,
  holds: (now, before) => sampleSum(now, name, labels) > sampleSum(before, name, labels),
});

/** At least `n` series `name`{labels} exist, each satisfying `ok`. */
const present = (process: AppName, name: string, labels: Record<string, string> = {}, n = 1, ok: (s: Sample) => boolean = () => true): Check => ({
  process,
  what: `${n}+ series ${name}${JSON.stringify(labels)}`,
  holds: (now) => {
    const series = samplesOf(now, name, labels);
    return series.length >= n && series.every(ok);
  },
});

/** The four gRPC server series of one method. */
const grpcServer = (process: AppName, grpc_service: string, grpc_method: string): Check[] => {
  const m = { grpc_type: "unary", grpc_service, grpc_method };
  return [
    grew(process, "grpc_server_started_total", m),
    grew(process, "grpc_server_handled_total", { ...m, grpc_code: "OK" }),
    grew(process, "grpc_server_handling_seconds_count", m),
    grew(process, "grpc_server_msg_received_total", m),
    grew(process, "grpc_server_msg_sent_total", m),
  ];
};

/** The client series of one method and the breaker gauge of its target (closed: 0). */
const grpcClient = (process: AppName, grpc_service: string, grpc_method: string, target: string): Check[] => {
  const m = { grpc_type: "unary", grpc_service, grpc_method };
  return [
    grew(process, "grpc_client_started_total", m),
    grew(process, "grpc_client_handled_total", { ...m, grpc_code: "OK" }),
    grew(process, "grpc_client_handling_seconds_count", m),
    present(process, "grpc_client_circuit_breaker_state", { grpc_service, target }, 1, (s) => s.value === 0),
  ];
};

/** Every process exports Node's default metrics. */
const nodeDefaults = (process: AppName): Check[] => [present(process, "process_cpu_seconds_total"), present(process, "nodejs_eventloop_lag_seconds")];

async function waitForChecks(s: Suite, checks: readonly Check[], before: Scrapes, timeoutMs = METRICS_TIMEOUT_MS): Promise<string[]> {
  const names = [...new Set(checks.map((c) => c.process))];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await scrape(s, names);
    const failing = checks.filter((c) => !c.holds(now.get(c.process) ?? [], before.get(c.process) ?? [])).map((c) => `${c.process}: ${c.what}`);
    if (failing.length === 0 || Date.now() > deadline) return failing;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

beforeAll(async () => {
  suite = await startSuite({
    label: "metricstest",
    relationEventPartitions: RELATION_EVENT_PARTITIONS,
    // seven processes compiling TypeScript at once on a small machine
    readyTimeoutMs: READY_TIMEOUT_MS,
    envFor: { relation: { BACKLOG_SAMPLE_INTERVAL_MS: "500" } },
  });
  before = await scrape(suite, ALL_APPS);
  users = {
    a: await register("a"),
    b: await register("b"),
    c: await register("c"),
    p1: await register("p1"),
    p2: await register("p2"),
    p3: await register("p3"),
  };
}, READY_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await suite?.stop();
});

describe("metric contract under traffic", () => {
  it("every series exists in the process that owns it and moves", async () => {
    const s = suite!;
    const { a, b, c } = users;
    for (const [from, to] of [
      [a, b],
      [a, c],
      [b, a],
    ] as const) {
      const r = await api("POST", "/api/relation/follow", { followUserId: to.id }, from.token);
      expect(r.status).toBe(200);
    }
    expect((await api("GET", `/api/relation/following?userId=${a.id}&limit=10`, undefined, a.token)).status).toBe(200);
    expect((await api("GET", `/api/relation/fans?userId=${a.id}&limit=10`, undefined, a.token)).status).toBe(200);
    expect((await api("GET", `/api/user/${b.id}/counts`, undefined, a.token)).status).toBe(200);
    expect((await api("GET", `/api/no-such-route-${tag}`)).status).toBe(404);
    const logins = [];
    for (let i = 0; i < LOGIN_BURST; i++) logins.push((await api("POST", "/api/user/login", { username: `mta${tag}`, password: "wrong-password" })).status);
    expect(logins).toContain(429);

    const { serviceNames: names, groups, topics } = s;
    const checks: Check[] = [
      // gateway: HTTP, its gRPC clients and their breakers, rate limits
      grew("gateway", "http_request_duration_seconds_count", { method: "POST", route: "/api/user/register", status_code: "201" }),
      grew("gateway", "http_request_duration_seconds_count", { method: "POST", route: "/api/relation/follow", status_code: "200" }),
      grew("gateway", "http_request_duration_seconds_count", { route: "/api/user/:userId/counts" }),
      grew("gateway", "http_request_duration_seconds_count", { route: "unmatched", status_code: "404" }),
      ...grpcClient("gateway", "user.v1.UserService", "Register", names.user),
      ...grpcClient("gateway", "relation.v1.RelationService", "Follow", names.relation),
      ...grpcClient("gateway", "count.v1.CountService", "GetCounts", names.count),
      grew("gateway", "gateway_rate_limit_decisions_total", { outcome: "allowed" }),
      grew("gateway", "gateway_rate_limit_decisions_total", { outcome: "limited" }),
      ...nodeDefaults("gateway"),
      // user: server side, profile cache
      ...grpcServer("user", "user.v1.UserService", "Register"),
      grew("user", "cache_lookups_total", { cache: "profile" }),
      ...nodeDefaults("user"),
      // relation: server side, its client of the user service, caches, backlog gauges
      ...grpcServer("relation", "relation.v1.RelationService", "Follow"),
      ...grpcServer("relation", "relation.v1.RelationService", "ListFollowing"),
      grew("relation", "grpc_client_started_total", { grpc_service: "user.v1.UserService" }),
      grew("relation", "grpc_client_handled_total", { grpc_service: "user.v1.UserService", grpc_code: "OK" }),
      present("relation", "grpc_client_circuit_breaker_state", { grpc_service: "user.v1.UserService", target: names.user }),
      grew("relation", "cache_lookups_total", { cache: "following" }),
      grew("relation", "cache_lookups_total", { cache: "fans" }),
      present("relation", "relation_outbox_entries", {}, 1, (x) => x.value === 0),
      present("relation", "relation_pending_transitions"),
      ...nodeDefaults("relation"),
      // count: server side, counter cache
      ...grpcServer("count", "count.v1.CountService", "GetCounts"),
      grew("count", "cache_lookups_total", { cache: "counter" }),
      ...nodeDefaults("count"),
      // relation-persister: batches and lag of every partition
      grew("relation-persister", "relation_persister_batch_size_count"),
      grew("relation-persister", "relation_persister_batch_seconds_count"),
      grew("relation-persister", "relation_persister_persist_seconds_count"),
      grew("relation-persister", "relation_persister_events_total", { outcome: "persisted" }),
      present("relation-persister", "kafka_consumergroup_lag", { consumergroup: groups.persister, topic: topics.relationEvents }, RELATION_EVENT_PARTITIONS),
      ...nodeDefaults("relation-persister"),
      // count-consumer, user-consumer: lag of count.changed
      present("count-consumer", "kafka_consumergroup_lag", { consumergroup: groups.countConsumer, topic: topics.countChanged, partition: "0" }),
      present("user-consumer", "kafka_consumergroup_lag", { consumergroup: groups.userConsumer, topic: topics.countChanged, partition: "0" }),
      ...nodeDefaults("count-consumer"),
      ...nodeDefaults("user-consumer"),
    ];
    expect(await waitForChecks(s, checks, before)).toEqual([]);

    // Each of the 8 partitions is its own series (not one per process).
    const lag = samplesOf((await scrape(s, ["relation-persister"])).get("relation-persister")!, "kafka_consumergroup_lag", { consumergroup: groups.persister });
    expect(new Set(lag.map((x) => x.labels.partition))).toEqual(new Set(Array.from({ length: RELATION_EVENT_PARTITIONS }, (_, i) => String(i))));
  });

  it("relation_pending_transitions counts follows the stopped persister has not persisted", async () => {
    const s = suite!;
    const pendingIs = (n: number): Check => ({
      process: "relation",
      what: `relation_pending_transitions == ${n}`,
      holds: (now) => samplesOf(now, "relation_pending_transitions").some((x) => x.value === n),
    });
    // Everything so far is persisted, and the overlay emptied by the persister.
    expect(await waitForChecks(s, [pendingIs(0)], new Map())).toEqual([]);
    await stopChild(s.processes.get("relation-persister")!.child);
    const followers = [users.p1, users.p2];
    for (const f of followers) expect((await api("POST", "/api/relation/follow", { followUserId: users.p3.id }, f.token)).status).toBe(200);
    expect(await waitForChecks(s, [pendingIs(followers.length)], new Map())).toEqual([]);
  });
});
