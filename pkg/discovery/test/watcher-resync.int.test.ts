/**
 * What a watcher does when etcd goes away and comes back empty. Uses a private
 * etcd (free ports, temp data dir) because the test kills and wipes it.
 * Registrations are written by hand here (no automatic re-registration), so
 * the order of events is the test's to choose.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { createEtcd, encodeInstance, instanceKey, watchService, type Etcd3, type ServiceWatcher } from "../src/index.js";
import { killAll } from "../../../test/support/child-processes.js";
import { PrivateEtcd } from "../../../test/support/private-etcd.js";

const logger = createLogger("watcher-it", process.env.TEST_LOG_LEVEL ?? "silent");
const SERVICE = "svc";
const GRACE_MS = 2_000;
let server: PrivateEtcd;
let etcd: Etcd3;
let watcher: ServiceWatcher;

const ids = () => watcher.instances().map((i) => i.instanceId);
/** Registers by hand, retrying while the client still backs off from the outage. */
const put = async (id: string) => {
  for (let attempt = 1; ; attempt++) {
    const lease = etcd.lease(30);
    lease.on("lost", () => undefined);
    try {
      await lease.put(instanceKey(SERVICE, id)).value(encodeInstance({ instanceId: id, address: `127.0.0.1:${1000 + attempt}`, startedAt: "t" }));
      return lease;
    } catch (err) {
      lease.release();
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
};
async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; instances: ${ids().join(",")}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  server = await PrivateEtcd.start();
  etcd = createEtcd([server.endpoint]);
  watcher = watchService(etcd, SERVICE, { logger, graceMs: GRACE_MS });
  await watcher.ready();
}, 30_000);
afterAll(async () => {
  await watcher?.close();
  etcd?.close();
  await killAll();
  await server?.destroy();
});

describe("watchService across an etcd outage", () => {
  it("keeps the last known list while etcd is down", async () => {
    const leases = [await put("live"), await put("dead")];
    await until(() => ids().join() === "dead,live", 2_000);
    await server.stop();
    for (const l of leases) l.release();
    // Past any lease TTL the watcher could imagine: still the same list.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(ids()).toEqual(["dead", "live"]);
  });

  it("after etcd comes back wiped, keeps missing instances for the grace period only", async () => {
    await server.restart({ wipe: true });
    // A new registration proves the watcher is back (re-listed and watching).
    await put("marker");
    await until(() => ids().includes("marker"), 10_000);
    // The wiped etcd knows neither "live" nor "dead", but neither is dropped yet.
    expect(ids()).toEqual(["dead", "live", "marker"]);
    // "live" registers again; "dead" never does.
    await put("live");
    await until(() => !ids().includes("dead"), GRACE_MS + 2_000);
    expect(ids()).toEqual(["live", "marker"]);
  }, 20_000);
});
