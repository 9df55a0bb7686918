import { describe, expect, it } from "vitest";
import { decideSweep, entryBirthMs, pendingToTransition } from "../src/domain/pending-sweeper.js";
import type { PendingEntry } from "../src/domain/relation-transition.js";

const policy = { sweepAfterMs: 10_000, maxBackoffMs: 300_000 };
const NOW = 1_800_000_000_000;
/** A pending entry made `ageMs` before NOW (its version is Redis TIME in µs). */
const entry = (to: number, ageMs: number): PendingEntry => ({
  to,
  action: "follow",
  version: (NOW - ageMs) * 1000 + 7,
  timeMs: NOW - ageMs,
  source: 3,
  prevTimeMs: 0,
});

describe("decideSweep", () => {
  it("drops a user with nothing pending from the index", () => {
    expect(decideSweep([], NOW, policy)).toEqual({ publish: [], nextDueMs: undefined });
  });

  it("leaves young entries alone and looks again when the oldest comes of age", () => {
    const d = decideSweep([entry(1, 2_000), entry(2, 6_000)], NOW, policy);
    expect(d.publish).toEqual([]);
    expect(d.nextDueMs).toBe(NOW - 6_000 + policy.sweepAfterMs);
  });

  it("publishes only the entries older than the sweep delay", () => {
    const d = decideSweep([entry(1, 2_000), entry(2, 12_000)], NOW, policy);
    expect(d.publish.map((e) => e.to)).toEqual([2]);
  });

  it("backs off by the age of the oldest entry, between the sweep delay and the cap", () => {
    expect(decideSweep([entry(1, 10_000)], NOW, policy).nextDueMs).toBe(NOW + 10_000);
    expect(decideSweep([entry(1, 40_000)], NOW, policy).nextDueMs).toBe(NOW + 40_000);
    expect(decideSweep([entry(1, 3_600_000)], NOW, policy).nextDueMs).toBe(NOW + policy.maxBackoffMs);
  });

  it("turns an entry back into the transition it recorded, version and all", () => {
    const e = entry(9, 20_000);
    expect(entryBirthMs(e)).toBe(NOW - 20_000);
    expect(pendingToTransition(5, e)).toEqual({ from: 5, to: 9, action: "follow", version: e.version, occurredAtMs: e.timeMs, source: 3 });
  });
});
