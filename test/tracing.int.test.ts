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
import { OTLP_SPAN_KIND, startOtlpCollector, type CollectedSpan, type OtlpCollector } from "./support/otlp-collector.js";
import { startSuite, type Suite } from "./support/suite.js";

const POLL_MS = 100;
const TRACE_TIMEOUT_MS = 20_000;
/** Export spans quickly (the SDK's default batch delay is 5 s). */
const BSP_DELAY_MS = "100";
const PASSWORD = "trace-secret-pw";

const tag = randomBytes(5).toString("hex");

let collector: OtlpCollector;
let suite: Suite | undefined;
let gatewayUrl: string;
let relationEventsTopic: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  suite = await startSuite({
    label: "tracetest",
    apps: ["user", "relation", "relation-persister", "gateway"],
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: BSP_DELAY_MS },
  });
  gatewayUrl = suite.gatewayUrl;
  relationEventsTopic = suite.topics.relationEvents;
}, 90_000);

afterAll(async () => {
  await suite?.stop();
  await collector?.close();
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
      produce: (s: CollectedSpan) => s.service === "relation" && s.kind === OTLP_SPAN_KIND.producer && s.attributes["messaging.destination.name"] === relationEventsTopic,
      consume: (s: CollectedSpan) => s.service === "relation-persister" && s.kind === OTLP_SPAN_KIND.consumer && s.attributes["messaging.destination.name"] === relationEventsTopic,
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
