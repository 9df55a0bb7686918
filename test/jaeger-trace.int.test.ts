/**
 * A follow through the gateway, found again through Jaeger's own query API:
 * the suite runs as child processes exactly as the local stack starts them,
 * exporting to the stack's Jaeger (started by `./dev.sh test`), and the test
 * looks the trace up by the request's X-Request-Id, as `./dev.sh trace` does.
 *
 * 1. One follow is one trace: the gateway's HTTP span, the relation gRPC
 *    server, the Kafka send, the persister's consume and MySQL writes, the
 *    `count.changed` send and both consumers of it.
 * 2. Follows persisted together in one batch: the batch span links to every
 *    producer span, and each request's trace holds a span for its record,
 *    linked back to the batch (docs/adr/0012-tracing-kafka-batches.md).
 * 3. Background work (etcd, pollers) starts no trace of its own.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jaegerOtlpEndpoint, jaegerQueryUrl } from "../deploy/stack/jaeger.js";
import { findTrace, renderTrace, searchTraces } from "../deploy/stack/trace.js";
import { rootSpan, serviceOf, tagValue, type JaegerSpan, type JaegerTrace } from "../deploy/stack/trace-waterfall.js";
import { startSuite, type Suite } from "./support/suite.js";

const TRACE_TIMEOUT_MS = 30_000;
const POLL_MS = 250;
const PASSWORD = "trace-secret-pw";
const FOLLOWS_IN_BATCH = 5;

const queryUrl = process.env.JAEGER_QUERY_URL ?? jaegerQueryUrl();
const tag = randomBytes(4).toString("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const jaegerUp = await fetch(`${queryUrl}/api/services`, { signal: AbortSignal.timeout(2_000) }).then(
  (r) => r.ok,
  () => false,
);
if (!jaegerUp) {
  process.stdout.write(`SKIPPED jaeger-trace: no Jaeger query API at ${queryUrl} (./dev.sh test starts one unless RS_JAEGER=0)\n`);
}

let suite: Suite | undefined;
const startedAtUs = Date.now() * 1000;

beforeAll(async () => {
  if (!jaegerUp) return;
  suite = await startSuite({
    label: "jaegertest",
    // One partition, so records of several followers meet in one batch.
    relationEventPartitions: 1,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? jaegerOtlpEndpoint(),
      OTEL_BSP_SCHEDULE_DELAY: "200",
      // Every request of this test is kept (the default keeps 10 a second per
      // process; the test registers users faster than that).
      OTEL_TRACES_SAMPLER: "parentbased_always_on",
    },
  });
}, 120_000);

afterAll(async () => {
  await suite?.stop();
});

async function api(method: string, path: string, body: unknown, opts: { token?: string; requestId?: string } = {}) {
  const res = await fetch(`${suite!.gatewayUrl}/api${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.requestId ? { "x-request-id": opts.requestId } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function register(name: string): Promise<{ id: number; token: string }> {
  const r = await api("POST", "/user/register", { username: `jt${name}${tag}`, password: PASSWORD });
  expect(r.status).toBe(201);
  return { id: Number(r.body.userId), token: String(r.body.token) };
}

const kind = (s: JaegerSpan) => tagValue(s, "span.kind");
const describeTrace = (t: JaegerTrace | undefined) =>
  t ? t.spans.map((s) => `${serviceOf(t, s)} ${String(kind(s) ?? "internal")} ${s.operationName}`).join("\n") : "(no trace)";

/** Polls Jaeger for the trace of `requestId` until `done` holds for it. */
async function traceOf(requestId: string, done: (t: JaegerTrace) => boolean): Promise<JaegerTrace | undefined> {
  const deadline = Date.now() + TRACE_TIMEOUT_MS;
  let last: JaegerTrace | undefined;
  while (Date.now() < deadline) {
    last = await findTrace(queryUrl, [requestId]).catch(() => undefined);
    if (last && done(last)) return last;
    await sleep(POLL_MS);
  }
  return last;
}

async function traceById(traceId: string, done: (t: JaegerTrace) => boolean): Promise<JaegerTrace | undefined> {
  const deadline = Date.now() + TRACE_TIMEOUT_MS;
  let last: JaegerTrace | undefined;
  while (Date.now() < deadline) {
    last = await findTrace(queryUrl, [traceId]).catch(() => undefined);
    if (last && done(last)) return last;
    await sleep(POLL_MS);
  }
  return last;
}

describe.skipIf(!jaegerUp)("traces in Jaeger", () => {
  it("one follow through the gateway is one trace, from the HTTP request to both count.changed consumers", async () => {
    const s = suite!;
    const [a, b] = [await register("a"), await register("b")];
    const requestId = `jaeger-test-${tag}`;
    const res = await api("POST", "/relation/follow", { followUserId: b.id }, { token: a.token, requestId });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, changed: true });

    const expected: Record<string, (t: JaegerTrace, sp: JaegerSpan) => boolean> = {
      "gateway HTTP server": (t, sp) => serviceOf(t, sp) === "gateway" && kind(sp) === "server" && tagValue(sp, "request.id") === requestId,
      "relation gRPC server": (t, sp) => serviceOf(t, sp) === "relation" && kind(sp) === "server" && sp.operationName.includes("RelationService/Follow"),
      "relation Kafka send": (t, sp) =>
        serviceOf(t, sp) === "relation" &&
        kind(sp) === "producer" &&
        sp.operationName === `send ${s.topics.relationEvents}` &&
        tagValue(sp, "messaging.system") === "kafka",
      "persister Kafka process": (t, sp) =>
        serviceOf(t, sp) === "relation-persister" &&
        kind(sp) === "consumer" &&
        sp.operationName === `process ${s.topics.relationEvents}` &&
        tagValue(sp, "messaging.operation.type") === "process",
      "persister MySQL write": (t, sp) =>
        serviceOf(t, sp) === "relation-persister" &&
        kind(sp) === "client" &&
        /^INSERT/i.test(String(tagValue(sp, "db.statement") ?? tagValue(sp, "db.query.text") ?? sp.operationName)),
      "persister count.changed send": (t, sp) =>
        serviceOf(t, sp) === "relation-persister" && kind(sp) === "producer" && sp.operationName === `send ${s.topics.countChanged}`,
      "count-consumer process": (t, sp) =>
        serviceOf(t, sp) === "count-consumer" && kind(sp) === "consumer" && sp.operationName === `process ${s.topics.countChanged}`,
      "user-consumer process": (t, sp) =>
        serviceOf(t, sp) === "user-consumer" && kind(sp) === "consumer" && sp.operationName === `process ${s.topics.countChanged}`,
    };
    const missing = (t: JaegerTrace) =>
      Object.entries(expected)
        .filter(([, p]) => !t.spans.some((sp) => p(t, sp)))
        .map(([k]) => k);
    const trace = await traceOf(requestId, (t) => missing(t).length === 0);
    expect(trace, "no trace found for the request id").toBeDefined();
    expect(missing(trace!), describeTrace(trace)).toEqual([]);
    // One trace, parent-linked: only the gateway's entry span has no parent in it.
    const root = rootSpan(trace!)!;
    expect(serviceOf(trace!, root)).toBe("gateway");
    const ids = new Set(trace!.spans.map((sp) => sp.spanID));
    const orphans = trace!.spans.filter((sp) => sp !== root && !sp.references?.some((r) => r.refType === "CHILD_OF" && ids.has(r.spanID)));
    expect(orphans.map((sp) => `${serviceOf(trace!, sp)} ${sp.operationName}`)).toEqual([]);

    // What `./dev.sh trace <request id>` prints names every hop.
    const printed = (await renderTrace(queryUrl, trace!)).join("\n");
    for (const service of ["gateway", "relation", "relation-persister", "count-consumer", "user-consumer"]) expect(printed).toContain(` ${service} `);
    expect(printed).toContain(`send ${s.topics.relationEvents}`);
  });

  it("a batch of several follows links to every producer span, and each follow's trace leads to the batch", async () => {
    const s = suite!;
    const target = await register("t");
    const followers = await Promise.all(Array.from({ length: FOLLOWS_IN_BATCH }, (_, i) => register(`f${i}`)));
    // Hold the persister, so the records wait in the topic and are fetched together.
    const persister = s.processes.get("relation-persister")!.child;
    persister.kill("SIGSTOP");
    const requestIds = followers.map((_, i) => `jaeger-batch-${tag}-${i}`);
    try {
      const results = await Promise.all(
        followers.map((f, i) => api("POST", "/relation/follow", { followUserId: target.id }, { token: f.token, requestId: requestIds[i] })),
      );
      expect(results.map((r) => r.status)).toEqual(followers.map(() => 200));
    } finally {
      persister.kill("SIGCONT");
    }

    // Each follow's trace gets a span for its record in the persister; in a
    // batch mixing producers, that span links to the batch's own trace.
    const linkedBatches = new Map<string, string>();
    for (const requestId of requestIds) {
      const persisted = (t: JaegerTrace) =>
        t.spans.find((sp) => serviceOf(t, sp) === "relation-persister" && kind(sp) === "consumer" && sp.operationName === `process ${s.topics.relationEvents}`);
      const trace = await traceOf(requestId, (t) => persisted(t) !== undefined);
      const span = trace && persisted(trace);
      expect(span, describeTrace(trace)).toBeDefined();
      const link = span!.references?.find((r) => r.traceID !== trace!.traceID);
      if (link) linkedBatches.set(requestId, link.traceID);
    }
    // At least one batch mixed several producers (the first fetch after the
    // pause may carry a single record; the rest arrive together).
    expect(linkedBatches.size).toBeGreaterThanOrEqual(2);
    const batchTraceId = [...linkedBatches.values()][0]!;
    const batchSpan = (t: JaegerTrace) =>
      t.spans.find(
        (sp) => serviceOf(t, sp) === "relation-persister" && kind(sp) === "consumer" && (tagValue(sp, "messaging.batch.message_count") as number) >= 2,
      );
    const batchTrace = await traceById(
      batchTraceId,
      (t) =>
        batchSpan(t) !== undefined &&
        t.spans.some(
          (sp) => kind(sp) === "client" && /INSERT/i.test(sp.operationName + String(tagValue(sp, "db.statement") ?? tagValue(sp, "db.query.text") ?? "")),
        ),
    );
    const batch = batchTrace && batchSpan(batchTrace);
    expect(batch, describeTrace(batchTrace)).toBeDefined();
    // The batch links to the producer span of every record it carried.
    const producerLinks = (batch!.references ?? []).filter((r) => r.traceID !== batchTrace!.traceID);
    expect(producerLinks.length).toBe(Number(tagValue(batch!, "messaging.batch.message_count")));
    // `./dev.sh trace <request id>` follows the link into the batch's trace.
    const [requestId] = [...linkedBatches.keys()];
    const printed = (await renderTrace(queryUrl, await findTrace(queryUrl, [requestId!]))).join("\n");
    expect(printed).toContain("linked trace");
    expect(printed).toContain(batchTraceId);
  });

  it("background work starts no traces: every trace root is a request, a send or a consume", async () => {
    // The suite has run for a while (etcd keep-alives, the outbox poller, lag
    // polls); every trace its processes started since must have a root span
    // of kind server, producer or consumer.
    const roots: string[] = [];
    for (const service of ["gateway", "user", "relation", "relation-persister", "count-consumer", "user-consumer"]) {
      const traces = await searchTraces(queryUrl, undefined, service);
      for (const t of traces) {
        const root = rootSpan(t);
        if (!root || root.startTime < startedAtUs || serviceOf(t, root) !== service) continue;
        roots.push(`${service} ${String(kind(root) ?? "internal")} ${root.operationName}`);
      }
    }
    expect(roots.length).toBeGreaterThan(0);
    expect(roots.filter((r) => !/ (server|producer|consumer) /.test(r))).toEqual([]);
  });
});
