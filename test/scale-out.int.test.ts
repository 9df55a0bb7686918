/**
 * Several processes per service (ADR 0017), with the real entry points started
 * as the local stack starts them, against the real etcd, Redis, MySQL and Kafka:
 *
 * - two relation processes register under one etcd name; the balanced client
 *   every caller uses (@rs/grpc over @rs/discovery, as in the gateway) spreads
 *   calls over both (counted by each process's own gRPC metric), and after one
 *   is SIGKILLed every call succeeds on the survivor;
 * - two gateway processes bind one HTTP port (SO_REUSEPORT): new connections
 *   reach both, and after one is SIGKILLed every request is answered by the other.
 */
import type { ChildProcess } from "node:child_process";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcd, watchService, type Etcd3, type ServiceWatcher } from "../pkg/discovery/src/index.js";
import { createServiceClient, type ServiceClient } from "../pkg/grpc/src/index.js";
import { relationV1 } from "../idl/src/index.js";
import { createLogger } from "../pkg/logger/src/index.js";
import { infra } from "./infra.js";
import { parsePrometheusText, sampleSum } from "./support/prometheus-text.js";
import { startSuite, type Suite, type SuiteProcess } from "./support/suite.js";
import { waitFor } from "./support/wait-for.js";

const LEASE_TTL_SECONDS = 3;
/** The gateway's default deadline per call, retries included. */
const DEADLINE_MS = 2_000;
/** Calls per measurement. */
const CALLS = 200;
const CONCURRENCY = 4;
/** Round-robin over two ready processes: each gets about half; this much at least. */
const FAIR_SHARE = 0.3;
/** The first call after a kill is answered within this (it fails over at once, not after the lease). */
const FAILOVER_WITHIN_MS = 1_000;

const logger = createLogger("scale-out-it", process.env.TEST_LOG_LEVEL ?? "silent");
let suite: Suite;
let etcd: Etcd3;
let watcher: ServiceWatcher;
let relation: ServiceClient<relationV1.RelationServiceClient>;

async function metrics(p: SuiteProcess) {
  const res = await fetch(`http://127.0.0.1:${p.adminPort}/metrics`, { signal: AbortSignal.timeout(2_000) });
  return parsePrometheusText(await res.text());
}
/** IsFollowing calls the process answered OK. */
const isFollowingServed = async (p: SuiteProcess) => sampleSum(await metrics(p), "grpc_server_handled_total", { grpc_method: "IsFollowing", grpc_code: "OK" });
/** HTTP requests the gateway process answered. */
const requestsServed = async (p: SuiteProcess) => sampleSum(await metrics(p), "http_request_duration_seconds_count");

async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}

/** `n` calls of `call`, `CONCURRENCY` at a time; the failures, and how long the first one took. */
async function run(n: number, call: (i: number) => Promise<unknown>): Promise<{ failures: string[]; firstMs: number }> {
  const failures: string[] = [];
  let next = 0;
  let firstMs = -1;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        try {
          await call(i);
        } catch (err) {
          failures.push(`call ${i}: ${(err as Error).message}`);
        }
        if (firstMs < 0) firstMs = Date.now() - started;
      }
    }),
  );
  return { failures, firstMs };
}

const isFollowing = (i: number) => relation.isFollowing({ fromUserId: 1_000 + (i % 50), toUserId: 2_000 + i });

/** GET on a new connection each time, so the kernel chooses a gateway process for each. */
function getOnNewConnection(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, timeout: DEADLINE_MS }, (res) => {
      res.resume();
      res.once("end", () => (res.statusCode === 200 ? resolve(res.statusCode) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.once("timeout", () => req.destroy(new Error("timed out")));
    req.once("error", reject);
  });
}

beforeAll(async () => {
  suite = await startSuite({
    label: "scaleout",
    apps: ["relation", "gateway"],
    processes: { relation: 2, gateway: 2 },
    envFor: { relation: { ETCD_LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS) } },
  });
  etcd = createEtcd(infra().etcdEndpoints);
  watcher = watchService(etcd, suite.serviceNames.relation, { logger });
  relation = createServiceClient(relationV1.RelationServiceClient, {
    target: { service: suite.serviceNames.relation, etcd },
    deadlineMs: DEADLINE_MS,
    logger,
  });
  await watcher.ready();
}, 180_000);

afterAll(async () => {
  await relation?.close();
  await watcher?.close();
  etcd?.close();
  await suite?.stop();
});

describe("two processes of the relation service", () => {
  it("both register in etcd, and the balanced client spreads calls over both", async () => {
    await waitFor("both relation processes in etcd", () => watcher.instances().length === 2, 10_000);
    const procs = suite.instances.get("relation")!;
    // The first calls may all go to the process whose connection is up first: measure once both are in use.
    await run(20, isFollowing);
    const before = await Promise.all(procs.map(isFollowingServed));
    const { failures } = await run(CALLS, isFollowing);
    const served = (await Promise.all(procs.map(isFollowingServed))).map((n, i) => n - before[i]!);
    expect(failures).toEqual([]);
    expect(served[0]! + served[1]!).toBe(CALLS);
    for (const n of served) expect(n).toBeGreaterThanOrEqual(CALLS * FAIR_SHARE);
  });

  it("absorbs one process's death: every call after a SIGKILL succeeds on the survivor, and etcd drops the dead one", async () => {
    const [victim, survivor] = suite.instances.get("relation")!;
    const before = await isFollowingServed(survivor!);
    await killed(victim!.child);
    const { failures, firstMs } = await run(CALLS, isFollowing);
    expect(failures).toEqual([]);
    expect(firstMs).toBeLessThan(FAILOVER_WITHIN_MS);
    expect((await isFollowingServed(survivor!)) - before).toBe(CALLS);
    // The lease of the dead process runs out; its registration goes.
    await waitFor("etcd to drop the killed relation process", () => watcher.instances().length === 1, (LEASE_TTL_SECONDS + 5) * 1_000);
  }, 30_000);
});

describe("two gateway processes on one HTTP port (SO_REUSEPORT)", () => {
  const PATH = "/api/openapi.json";

  it("both serve the one port: new connections reach each of them", async () => {
    const gateways = suite.instances.get("gateway")!;
    expect(gateways[1]!.port).toBe(gateways[0]!.port);
    const before = await Promise.all(gateways.map(requestsServed));
    const { failures } = await run(CALLS / 2, () => getOnNewConnection(gateways[0]!.port!, PATH));
    const served = (await Promise.all(gateways.map(requestsServed))).map((n, i) => n - before[i]!);
    expect(failures).toEqual([]);
    expect(served[0]! + served[1]!).toBe(CALLS / 2);
    // The kernel hashes each connection to one listener: with 100 connections, neither is left out.
    for (const n of served) expect(n).toBeGreaterThan(0);
  });

  it("absorbs one gateway's death: every request after a SIGKILL is answered by the other", async () => {
    const [victim, survivor] = suite.instances.get("gateway")!;
    const before = await requestsServed(survivor!);
    await killed(victim!.child);
    const { failures } = await run(CALLS / 2, () => getOnNewConnection(survivor!.port!, PATH));
    expect(failures).toEqual([]);
    expect((await requestsServed(survivor!)) - before).toBe(CALLS / 2);
  });
});
