/**
 * relation_pending_transitions and relation_outbox_entries follow what is in
 * Redis: transitions recorded through the real cache raise the pending count,
 * clearing them lowers it, a queued undo shows in the outbox gauge. One SCAN
 * step per tick, so a walk of the shared Redis spans several ticks and the
 * gauge is set only when a walk completes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { metricsRegistry } from "@rs/runtime";
import { registrySamples, sampleSum } from "../../../test/support/prometheus-text.js";
import { startBacklogGauges, type BacklogGauges } from "../src/adapters/redis/backlog-gauges.js";
import { RelationCache } from "../src/adapters/redis/relation-cache.js";
import { redisFixture, sleep, type RedisFixture } from "./redis-fixture.js";

const CAP = 5_000;
const INTERVAL_MS = 50;
const WAIT_MS = 10_000;
const logger = createLogger("backlog-gauges-test", process.env.TEST_LOG_LEVEL ?? "silent");

let fx: RedisFixture;
let cache: RelationCache;
let gauges: BacklogGauges;

beforeAll(() => {
  fx = redisFixture();
  cache = new RelationCache(fx.client(), { keyPrefix: fx.prefix });
  gauges = startBacklogGauges({ redis: fx.client(), keys: cache.keys, logger, intervalMs: INTERVAL_MS, scanStepsPerTick: 1 });
});
afterAll(async () => {
  gauges?.stop();
  await fx?.cleanup();
});

const gauge = async (name: string) => sampleSum(await registrySamples(metricsRegistry), name);

/** Polls `name` until it equals `value`; returns the last value read. */
async function gaugeBecomes(name: string, value: number): Promise<number> {
  const deadline = Date.now() + WAIT_MS;
  let v = await gauge(name);
  while (v !== value && Date.now() < deadline) {
    await sleep(INTERVAL_MS);
    v = await gauge(name);
  }
  return v;
}

describe("backlog gauges", () => {
  it("count pending overlay entries across users, and users with a queued outbox", async () => {
    // The walk sees only this test's prefix, so the figures are exact.
    expect(await gaugeBecomes("relation_pending_transitions", 0)).toBe(0);
    const users = [101, 102, 103];
    for (const a of users) {
      await cache.ensureLoaded(a, async () => ({ rows: [], maxVersion: 0 }));
      for (const b of [1, 2]) expect((await cache.applyTransition(a, b, "follow", Date.now(), 0, CAP)).status).toBe("changed");
    }
    expect(await gaugeBecomes("relation_pending_transitions", 6)).toBe(6);

    await cache.clearPending(101, await cache.pendingEntries(101));
    expect(await gaugeBecomes("relation_pending_transitions", 4)).toBe(4);

    const [entry] = await cache.pendingEntries(102);
    await cache.outbox.pushOutbox({ from: 102, to: entry!.to, action: "unfollow", version: entry!.version + 1, occurredAtMs: Date.now(), source: 0 });
    expect(await gaugeBecomes("relation_outbox_entries", 1)).toBe(1);
  });
});
