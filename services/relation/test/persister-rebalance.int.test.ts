/**
 * Two persister instances in one consumer group under a steady load: a second
 * one is added (the partitions are split), then the first is removed (its
 * partitions move over). No transition may be lost or applied twice: every
 * published transition is newer than the one before it on its edge, so the
 * events the persisters applied to a row (each at most once: a second
 * application would find the row's version equal) must equal the published
 * ones exactly, on both sides, and the stores must equal the model.
 */
import type { Counter } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricsRegistry } from "@rs/runtime";
import { startPersister } from "../src/persister/persister.process.js";
import { createPipelineWorld, GraphModel, logger, sleep, waitForConvergence, type PipelineWorld } from "./persister-fixture.js";

const USERS = 200;
const TICK_MS = 50;
const PER_TICK = 100; // 2,000 transitions/s offered
const ADD_AT_MS = 4_000;
const REMOVE_AT_MS = 10_000;
const LOAD_MS = 15_000;

let w: PipelineWorld;

beforeAll(async () => {
  w = await createPipelineWorld("rebalance");
});

afterAll(async () => {
  await w?.cleanup();
});

async function appliedEvents(side: "follows" | "fans"): Promise<number> {
  const m = metricsRegistry.getSingleMetric("relation_persister_events_applied_total") as Counter<"side"> | undefined;
  if (!m) return 0;
  const v = (await m.get()).values.find((x) => x.labels.side === side);
  return v?.value ?? 0;
}

describe("persister instances added and removed under load", () => {
  it("loses no transition and applies none twice", async () => {
    const model = new GraphModel(USERS);
    const handled = { first: 0, second: 0 };
    const cfg = w.config({ PERSIST_CHUNK_EVENTS: "100" });
    const first = await startPersister(cfg, { logger, onPersisted: (e) => (handled.first += e.length) });
    let second: Awaited<ReturnType<typeof startPersister>> | undefined;
    let produced = 0;
    try {
      const t0 = Date.now();
      let firstStopped = false;
      while (Date.now() - t0 < LOAD_MS) {
        const batch = model.transitions(PER_TICK);
        await w.produce(batch);
        produced += batch.length;
        const elapsed = Date.now() - t0;
        if (!second && elapsed >= ADD_AT_MS) {
          second = await startPersister(cfg, { logger, onPersisted: (e) => (handled.second += e.length) });
        }
        if (!firstStopped && elapsed >= REMOVE_AT_MS) {
          firstStopped = true;
          await first.stop();
        }
        await sleep(TICK_MS);
      }
      expect(await waitForConvergence(w.sharded, model, 60_000)).toEqual([]);
      expect(await appliedEvents("follows")).toBe(produced);
      expect(await appliedEvents("fans")).toBe(produced);
      // Both instances really worked, and the second took over everything at the end.
      expect(handled.first).toBeGreaterThan(0);
      expect(handled.second).toBeGreaterThan(0);
      expect((await second!.internals.consumer.readLag()).reduce((a, l) => a + l.lag, 0)).toBe(0);
    } finally {
      await first.stop();
      await second?.stop();
    }
  }, 120_000);
});
