/**
 * Registration and watching against the shared etcd of the local stack, under
 * a unique service name (keys removed afterwards). Restarting etcd itself is
 * covered with a private etcd in pkg/grpc/test/discovery-balancing.int.test.ts.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { createEtcd, instanceKey, registerInstance, servicePrefix, watchService, type Etcd3, type Instance } from "../src/index.js";
import { infra } from "../../../test/infra.js";

const logger = createLogger("discovery-it", process.env.TEST_LOG_LEVEL ?? "silent");
const service = `disc-it-${randomUUID().slice(0, 8)}`;
let etcd: Etcd3;

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(() => {
  etcd = createEtcd(infra().etcdEndpoints);
});
afterAll(async () => {
  await etcd.delete().prefix(servicePrefix(service)).exec();
  etcd.close();
});

describe("registerInstance + watchService", () => {
  it("registers under a lease, is watched, and disappears at once on deregister", async () => {
    const watcher = watchService(etcd, service, { logger });
    const seen: Instance[][] = [];
    watcher.onChange((list) => seen.push(list));
    await watcher.ready();
    expect(watcher.instances()).toEqual([]);

    const reg = await registerInstance(etcd, { service, instanceId: "i1", address: "127.0.0.1:7001", ttlSeconds: 5, logger });
    const kv = (await etcd.get(reg.key).exec()).kvs[0];
    expect(kv).toBeDefined();
    expect(JSON.parse(kv!.value.toString())).toEqual({ address: "127.0.0.1:7001", instanceId: "i1", startedAt: reg.instance.startedAt });
    expect(kv!.lease).not.toBe("0");
    await until(() => watcher.instances().length === 1, 2_000);
    expect(watcher.instances()[0]).toEqual(reg.instance);

    await reg.deregister();
    expect(reg.isRegistered()).toBe(false);
    expect(await etcd.get(reg.key).string()).toBeNull();
    await until(() => watcher.instances().length === 0, 2_000);
    expect(seen.map((l) => l.map((i) => i.instanceId))).toEqual([["i1"], []]);
    await watcher.close();
  });

  it("creates a new lease and key when the lease is lost", async () => {
    const reg = await registerInstance(etcd, { service, instanceId: "i2", address: "127.0.0.1:7002", ttlSeconds: 2, logger });
    try {
      const leaseOf = async () => (await etcd.get(reg.key).exec()).kvs[0]?.lease;
      const first = await leaseOf();
      expect(first).toBeDefined();
      // Someone (an operator, an etcd that lost its data) kills the lease: the key goes with it.
      await etcd.leaseClient.leaseRevoke({ ID: first! });
      expect(await leaseOf()).toBeUndefined();
      // The next keep-alive notices (every TTL/3) and the registration comes back under a new lease.
      await until(async () => (await leaseOf()) !== undefined, 5_000);
      expect(await leaseOf()).not.toBe(first);
      expect(reg.isRegistered()).toBe(true);
    } finally {
      await reg.deregister();
    }
  });

  it("ignores malformed entries and deeper keys under the prefix", async () => {
    await etcd.put(`${servicePrefix(service)}bad`).value("not json");
    await etcd.put(`${servicePrefix(service)}deeper/x`).value(JSON.stringify({ address: "127.0.0.1:1", instanceId: "x" }));
    const watcher = watchService(etcd, service, { logger });
    try {
      await watcher.ready();
      const reg = await registerInstance(etcd, { service, instanceId: "good", address: "127.0.0.1:7003", ttlSeconds: 5, logger });
      await until(() => watcher.instances().length === 1, 2_000);
      expect(watcher.instances().map((i) => i.instanceId)).toEqual(["good"]);
      await reg.deregister();
    } finally {
      await watcher.close();
    }
  });

  it("refuses to start when etcd cannot be reached", async () => {
    const unreachable = createEtcd(["http://127.0.0.1:1"], { callTimeoutMs: 200 });
    try {
      await expect(
        registerInstance(unreachable, { service, instanceId: "never", address: "127.0.0.1:7004", ttlSeconds: 5, logger, timeoutMs: 1_000 }),
      ).rejects.toThrow(/not registered in etcd within 1000 ms/);
    } finally {
      unreachable.close();
    }
    expect(await etcd.get(instanceKey(service, "never")).string()).toBeNull();
  });
});
