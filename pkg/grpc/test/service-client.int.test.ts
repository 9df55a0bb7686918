/**
 * createServiceClient against real in-process servers: retries only of
 * idempotent methods, retries landing on another instance (two instances
 * registered in the shared etcd under a unique service name), deadlines, the
 * circuit breaker, and error mapping as seen by a caller.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { createEtcd, registerInstance, watchService, type Etcd3, type Registration } from "@rs/discovery";
import { unavailable } from "@rs/errors";
import { createServiceClient, startGrpcServer, unary, type ServiceClient } from "@rs/grpc";
import { echoV1, protoFiles } from "@rs/idl";
import { createLogger, withCallDeadline } from "@rs/logger";
import { infra } from "../../../test/infra.js";
import { metricsRegistry } from "@rs/runtime";
import { registrySamples, sampleSum } from "../../../test/support/prometheus-text.js";
import { eventually } from "./support/eventually.js";

const logger = createLogger("service-client-it", process.env.TEST_LOG_LEVEL ?? "silent");
type Behaviour = "ok" | "unavailable" | "boom" | "slow" | "unavailable-then-slow";

/** An echo server whose behaviour the test switches, counting the calls it receives. */
async function startTestServer(name: string) {
  const state = { behaviour: "ok" as Behaviour, calls: 0 };
  const echo = unary<echoV1.EchoRequest, echoV1.EchoResponse>(async (req, call) => {
    state.calls++;
    switch (state.behaviour) {
      case "unavailable":
        throw unavailable("overloaded, try elsewhere");
      case "boom":
        throw new Error("connection to 10.1.2.3:3306 refused");
      case "slow":
        await sleep(500);
        break;
      case "unavailable-then-slow":
        if (state.calls === 1) throw unavailable("overloaded, try elsewhere");
        await sleep(500);
        break;
    }
    const tag = call.metadata.get("x-tag")[0];
    return { message: tag === undefined ? req.message : String(tag), instance: name };
  });
  const handle = await startGrpcServer({
    name,
    host: "127.0.0.1",
    port: 0,
    services: [{ definition: echoV1.EchoServiceService, implementation: { echo } }],
    reflectionProtoFiles: [protoFiles.echo],
    logger,
  });
  return { state, handle, address: `127.0.0.1:${handle.port}` };
}

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
const ECHO = { grpc_type: "unary", grpc_service: "echo.v1.EchoService", grpc_method: "Echo" };
/** A sample of this process's registry, for the call labels of Echo plus `labels`. */
const metric = async (name: string, labels: Record<string, string> = {}) => sampleSum(await registrySamples(metricsRegistry), name, { ...ECHO, ...labels });

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable("call should fail"),
    (err: ServiceError) => err,
  );

describe("createServiceClient with one address", () => {
  let server: TestServer;
  const clients: Array<ServiceClient<echoV1.EchoServiceClient>> = [];
  const client = (opts: Partial<Parameters<typeof createServiceClient<echoV1.EchoServiceClient>>[1]> = {}) => {
    const c = createServiceClient(echoV1.EchoServiceClient, {
      target: { address: server.address },
      deadlineMs: 1_000,
      breaker: false,
      logger,
      ...opts,
    });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    server = await startTestServer("single");
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    server.state.behaviour = "ok";
    server.state.calls = 0;
  });
  afterAll(() => server.handle.shutdown(1_000));

  it("calls with typed requests and responses and carries metadata", async () => {
    const c = client();
    const res: echoV1.EchoResponse = await c.echo({ message: "hi" });
    expect(res).toEqual({ message: "hi", instance: "single" });
    const metadata = new Metadata();
    metadata.set("x-tag", "from-metadata");
    expect((await c.echo({ message: "hi" }, { metadata })).message).toBe("from-metadata");
  });

  it("does not retry a non-idempotent method", async () => {
    server.state.behaviour = "unavailable";
    const err = await codeOf(client({ idempotentMethods: [], maxRetries: 3 }).echo({ message: "x" }));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(server.state.calls).toBe(1);
  });

  it("retries an idempotent method on UNAVAILABLE, at most maxRetries times, and counts the call once", async () => {
    server.state.behaviour = "unavailable";
    const before = { started: await metric("grpc_client_started_total"), failed: await metric("grpc_client_handled_total", { grpc_code: "UNAVAILABLE" }) };
    const err = await codeOf(client({ idempotentMethods: ["echo"], maxRetries: 3 }).echo({ message: "x" }));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(server.state.calls).toBe(4);
    expect(await metric("grpc_client_started_total")).toBe(before.started + 1);
    expect(await metric("grpc_client_handled_total", { grpc_code: "UNAVAILABLE" })).toBe(before.failed + 1);
  });

  it("does not retry other failures, even of idempotent methods", async () => {
    server.state.behaviour = "boom";
    const err = await codeOf(client({ idempotentMethods: ["echo"], maxRetries: 3 }).echo({ message: "x" }));
    // A plain Error thrown by the handler reaches the caller as INTERNAL, without its text.
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toBe("internal error");
    expect(err.message).not.toContain("10.1.2.3");
    expect(server.state.calls).toBe(1);
  });

  it("gives every call a deadline, overridable per call", async () => {
    server.state.behaviour = "slow";
    const c = client({ deadlineMs: 100, idempotentMethods: ["echo"] });
    const t0 = Date.now();
    const err = await codeOf(c.echo({ message: "x" }));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    expect(Date.now() - t0).toBeLessThan(400);
    expect((await c.echo({ message: "patient" }, { deadlineMs: 2_000 })).message).toBe("patient");
  });

  it("reports UNAVAILABLE, not the deadline, when a retry after UNAVAILABLE runs out of time", async () => {
    server.state.behaviour = "unavailable-then-slow";
    server.state.calls = 0;
    const err = await codeOf(client({ deadlineMs: 400, idempotentMethods: ["echo"], maxRetries: 3 }).echo({ message: "x" }));
    expect(server.state.calls).toBe(2);
    expect(err.code).toBe(status.UNAVAILABLE);
  });

  it("ends a call made while serving another before that call's deadline", async () => {
    server.state.behaviour = "slow";
    const c = client({ deadlineMs: 2_000 });
    const t0 = Date.now();
    const err = await withCallDeadline(Date.now() + 300, () => codeOf(c.echo({ message: "x" })));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    expect(Date.now() - t0).toBeLessThan(300);
  });

  it("opens the circuit after repeated UNAVAILABLE, answers fast without calling, and closes again", async () => {
    server.state.behaviour = "unavailable";
    const halfOpenAfterMs = 500;
    const c = client({ breaker: { windowMs: 2_000, minimumRps: 1, threshold: 0.5, halfOpenAfterMs } });
    // Echo is not declared idempotent: its breaker is the client's write breaker.
    const breaker = { grpc_service: "echo.v1.EchoService", target: server.address, method_class: "write" };
    const breakerMetric = async (name: string, labels: Record<string, string> = {}) =>
      sampleSum(await registrySamples(metricsRegistry), name, { ...breaker, ...labels });
    const opens = await breakerMetric("grpc_client_circuit_breaker_transitions_total", { state: "open" });
    expect(await breakerMetric("grpc_client_circuit_breaker_state")).toBe(0);
    let opened = false;
    for (let i = 0; i < 10 && !opened; i++) {
      const err = await codeOf(c.echo({ message: "x" }));
      expect(err.code).toBe(status.UNAVAILABLE);
      opened = err.details.includes("circuit open");
    }
    expect(opened).toBe(true);
    expect(await breakerMetric("grpc_client_circuit_breaker_state")).toBe(2);
    expect(await breakerMetric("grpc_client_circuit_breaker_transitions_total", { state: "open" })).toBe(opens + 1);
    const callsWhenOpened = server.state.calls;
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const err = await codeOf(c.echo({ message: "x" }));
      expect(err.code).toBe(status.UNAVAILABLE);
      expect(err.details).toContain("circuit open");
      expect(Date.now() - t0).toBeLessThan(20);
    }
    expect(server.state.calls).toBe(callsWhenOpened);

    server.state.behaviour = "ok";
    await sleep(halfOpenAfterMs + 100);
    expect((await c.echo({ message: "back" })).message).toBe("back");
    expect((await c.echo({ message: "again" })).message).toBe("again");
    expect(await breakerMetric("grpc_client_circuit_breaker_state")).toBe(0);
  });

  it("rejects an idempotent method name the service does not have", () => {
    // @ts-expect-error: not a method of EchoService
    expect(() => client({ idempotentMethods: ["nope"] })).toThrow(/no unary method nope/);
    // @ts-expect-error: not a method of EchoService
    expect(() => client({ methodClasses: { nope: "read" } })).toThrow(/no unary method nope/);
  });
});

describe("createServiceClient over etcd (shared etcd, unique service name)", () => {
  const service = `client-it-${randomUUID().slice(0, 8)}`;
  let etcd: Etcd3;
  let healthy: TestServer;
  let failing: TestServer;
  const registrations: Registration[] = [];

  beforeAll(async () => {
    etcd = createEtcd(infra().etcdEndpoints);
    [healthy, failing] = await Promise.all([startTestServer("healthy"), startTestServer("failing")]);
    failing.state.behaviour = "unavailable";
    for (const s of [healthy, failing]) {
      registrations.push(
        await registerInstance(etcd, { service, instanceId: s === healthy ? "healthy" : "failing", address: s.address, ttlSeconds: 5, logger }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(registrations.map((r) => r.deregister()));
    await Promise.all([healthy?.handle.shutdown(1_000), failing?.handle.shutdown(1_000)]);
    etcd?.close();
  });

  it("retries an idempotent call on another instance", async () => {
    const c = createServiceClient(echoV1.EchoServiceClient, {
      target: { service, etcd },
      deadlineMs: 2_000,
      idempotentMethods: ["echo"],
      maxRetries: 1,
      breaker: false,
      logger,
    });
    try {
      for (let i = 0; i < 10; i++) expect((await c.echo({ message: String(i) })).instance).toBe("healthy");
      // Round-robin sent first attempts to "failing" too; each was retried on "healthy".
      expect(failing.state.calls).toBeGreaterThan(0);
      expect(healthy.state.calls).toBe(10);
    } finally {
      await c.close();
    }
  });

  it("lets non-idempotent calls that hit the failing instance fail", async () => {
    const c = createServiceClient(echoV1.EchoServiceClient, {
      target: { service, etcd },
      deadlineMs: 2_000,
      breaker: false,
      logger,
    });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          c.echo({ message: String(i) }).then(
            (r) => r.instance,
            (e: ServiceError) => e.code,
          ),
        ),
      );
      expect(outcomes).toContain("healthy");
      expect(outcomes).toContain(status.UNAVAILABLE);
    } finally {
      await c.close();
    }
  });

  it("deregistration removes the key at once", async () => {
    const watcher = watchService(etcd, service, { logger });
    try {
      await watcher.ready();
      expect(watcher.instances().map((i) => i.instanceId)).toEqual(["failing", "healthy"]);
      await registrations.pop()!.deregister();
      await eventually(() => expect(watcher.instances().map((i) => i.instanceId)).toEqual(["healthy"]), 1_000, 20);
    } finally {
      await watcher.close();
    }
  });
});
