/**
 * The balanced client over etcd discovery, end to end: echo servers as real
 * child processes registered in a private etcd that the test kills, restarts
 * and wipes (the shared etcd is never touched).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcd, servicePrefix, watchService, type Etcd3, type ServiceWatcher } from "@rs/discovery";
import { createServiceClient, type ServiceClient } from "@rs/grpc";
import { echoV1 } from "@rs/idl";
import { createLogger } from "@rs/logger";
import { startCallLoop, type CallRecord } from "./support/call-loop.js";
import { spawnEcho, type EchoProcess } from "./support/echo-process.js";
import { eventually, sleep } from "./support/eventually.js";
import { killAll } from "../../../test/support/child-processes.js";
import { PrivateEtcd } from "../../../test/support/private-etcd.js";

const SERVICE = `echo-it-${randomUUID().slice(0, 8)}`;
const LEASE_TTL_SECONDS = 3;
/** What "within a few seconds" means in these assertions. */
const SWITCH_WITHIN_MS = 2_000;
/** Grace of the test's own watcher for instances a re-listing misses. */
const TEST_GRACE_MS = 3_000;

const logger = createLogger("discovery-it", process.env.TEST_LOG_LEVEL ?? "silent");
let etcdServer: PrivateEtcd;
let etcd: Etcd3;
let watcher: ServiceWatcher;
/** Retries Echo (declared idempotent), as production clients of read methods do. */
let retrying: ServiceClient<echoV1.EchoServiceClient>;
/** No retries: shows what the balancer alone does. */
let plain: ServiceClient<echoV1.EchoServiceClient>;
const procs = new Map<string, EchoProcess>();

const spawnInstance = async (id: string) => {
  const proc = await spawnEcho({
    ETCD_ENDPOINTS: etcdServer.endpoint,
    ECHO_SERVICE_NAME: SERVICE,
    ECHO_INSTANCE_ID: id,
    ECHO_LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS),
  });
  procs.set(id, proc);
  return proc;
};

const ids = () => watcher.instances().map((i) => i.instanceId);
const answeredBy = (records: readonly CallRecord[]) => new Set(records.flatMap((r) => (r.instance ? [r.instance] : [])));
const failures = (records: readonly CallRecord[]) => records.filter((r) => r.code !== undefined);

async function callsReach(client: ServiceClient<echoV1.EchoServiceClient>, expected: readonly string[], calls = 20) {
  const seen = new Set<string>();
  for (let i = 0; i < calls; i++) seen.add((await client.echo({ message: String(i) })).instance);
  expect([...seen].sort()).toEqual([...expected].sort());
}

beforeAll(async () => {
  etcdServer = await PrivateEtcd.start();
  etcd = createEtcd([etcdServer.endpoint]);
  watcher = watchService(etcd, SERVICE, { logger, graceMs: TEST_GRACE_MS });
  const common = { target: { service: SERVICE, etcd }, deadlineMs: 1_000, logger } as const;
  retrying = createServiceClient(echoV1.EchoServiceClient, { ...common, idempotentMethods: ["echo"], maxRetries: 2 });
  plain = createServiceClient(echoV1.EchoServiceClient, { ...common, idempotentMethods: [], breaker: false });
  await Promise.all([spawnInstance("a"), spawnInstance("b"), watcher.ready()]);
}, 60_000);

afterAll(async () => {
  await retrying?.close();
  await plain?.close();
  await watcher?.close();
  etcd?.close();
  await killAll();
  await etcdServer?.destroy();
});

describe("balanced client over etcd discovery", () => {
  it("balances round-robin across both registered instances", async () => {
    await eventually(() => expect(ids()).toEqual(["a", "b"]), 5_000);
    const counts = new Map<string, number>();
    await eventually(async () => {
      counts.clear();
      for (let i = 0; i < 20; i++) {
        const { instance } = await plain.echo({ message: "x" });
        counts.set(instance, (counts.get(instance) ?? 0) + 1);
      }
      // Round-robin: an even split, give or take the first calls while connecting.
      expect(counts.get("a")).toBeGreaterThanOrEqual(8);
      expect(counts.get("b")).toBeGreaterThanOrEqual(8);
    }, 5_000);
  });

  it("stops sending to a SIGKILLed instance within seconds, before its lease expires", async () => {
    let droppedFromEtcdAt = 0;
    const unsubscribe = watcher.onChange((list) => {
      if (!droppedFromEtcdAt && !list.some((i) => i.instanceId === "a")) droppedFromEtcdAt = Date.now();
    });
    const withRetries = startCallLoop(retrying, 4);
    const withoutRetries = startCallLoop(plain, 4);
    await sleep(300);
    const killedAt = Date.now();
    await procs.get("a")!.stop("SIGKILL");
    await sleep(SWITCH_WITHIN_MS + 2_000);
    const [retried, single] = await Promise.all([withRetries.stop(), withoutRetries.stop()]);
    unsubscribe();

    const afterSwitch = (records: readonly CallRecord[]) => records.filter((r) => r.at > killedAt + SWITCH_WITHIN_MS);
    for (const records of [retried, single]) {
      expect(afterSwitch(records).length).toBeGreaterThan(50);
      expect(answeredBy(afterSwitch(records))).toEqual(new Set(["b"]));
      expect(failures(afterSwitch(records))).toEqual([]);
    }
    // Retried calls hide the kill completely.
    expect(failures(retried)).toEqual([]);
    // Without retries, only calls around the kill may fail (those in flight on "a").
    for (const f of failures(single)) expect(f.at).toBeLessThan(killedAt + SWITCH_WITHIN_MS);
    // The switch came from the dead connection, not from etcd: "a" got its last
    // call before its lease ran out and etcd dropped it.
    const lastToA = Math.max(...single.filter((r) => r.instance === "a" || r.code !== undefined).map((r) => r.at));
    await eventually(() => expect(ids()).toEqual(["b"]), (LEASE_TTL_SECONDS + 3) * 1_000);
    expect(droppedFromEtcdAt).toBeGreaterThan(0);
    expect(lastToA).toBeLessThan(droppedFromEtcdAt);
  }, 30_000);

  it("picks up new instances", async () => {
    await Promise.all([spawnInstance("c"), spawnInstance("d")]);
    await eventually(() => expect(ids()).toEqual(["b", "c", "d"]), 5_000);
    await eventually(() => callsReach(plain, ["b", "c", "d"], 30), 5_000);
  }, 30_000);

  it("keeps calling the last known instances while etcd is down, and re-registers after etcd restarts with its data wiped", async () => {
    const loop = startCallLoop(retrying, 2, 20);
    await etcdServer.stop();
    // Longer than the lease TTL: nothing may be dropped just because etcd is gone.
    await sleep((LEASE_TTL_SECONDS + 1) * 1_000);
    expect(ids()).toEqual(["b", "c", "d"]);
    await callsReach(plain, ["b", "c", "d"], 30);
    // "d" dies while etcd cannot hear about it.
    await procs.get("d")!.stop("SIGKILL");
    const dKilledAt = Date.now();

    await etcdServer.restart({ wipe: true });
    const keys = async () => (await etcd.getAll().prefix(servicePrefix(SERVICE)).keys()).map((k) => k.slice(k.lastIndexOf("/") + 1)).sort();
    // Both live registrations come back on their own; the dead one does not.
    await eventually(async () => expect(await keys()).toEqual(["b", "c"]), 15_000, 250);
    // The watcher re-syncs: "d" goes after its grace, "b" and "c" stay.
    await eventually(() => expect(ids()).toEqual(["b", "c"]), TEST_GRACE_MS + 5_000);
    const records = await loop.stop();
    expect(failures(records)).toEqual([]);
    expect(answeredBy(records.filter((r) => r.at > dKilledAt))).toEqual(new Set(["b", "c"]));
    await callsReach(plain, ["b", "c"]);
  }, 40_000);

  it("removes an instance at once when it deregisters on SIGTERM", async () => {
    const stoppedAt = Date.now();
    await procs.get("c")!.stop("SIGTERM");
    await eventually(() => expect(ids()).toEqual(["b"]), 2_000, 20);
    // Well before the lease would have expired.
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_TTL_SECONDS * 1_000);
    await callsReach(plain, ["b"]);
  }, 15_000);
});
