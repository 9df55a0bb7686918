/**
 * The counts' decisions, shared by the persister and the reconciler: how a
 * batch moves a count, how a repair sets one, how a version is raised past a
 * copy's, and which rows and count.changed records follow.
 */
import { describe, expect, it } from "vitest";
import { countsAfterMoves, countWrites, movedCount, nextCountVersion, raisedCount, repairedCount } from "../src/persister/count-arithmetic.js";

const NOW_MS = 1_700_000_000_000;

describe("nextCountVersion", () => {
  it("is strictly above the previous version and at least the newest transition", () => {
    expect(nextCountVersion(0, 500)).toBe(500);
    expect(nextCountVersion(500, 400)).toBe(501);
    expect(nextCountVersion(500, 900)).toBe(900);
  });
});

describe("movedCount", () => {
  it("moves by the net transitions, from zero when there is no row", () => {
    expect(movedCount(undefined, 1, 70)).toEqual({ value: 1, version: 70, underflow: false });
    expect(movedCount({ value: 5, version: 80 }, -2, 70)).toEqual({ value: 3, version: 81, underflow: false });
  });

  it("never goes below zero, and says so (a divergence for the reconciler)", () => {
    expect(movedCount({ value: 0, version: 10 }, -1, 20)).toEqual({ value: 0, version: 20, underflow: true });
  });
});

describe("repairedCount", () => {
  it("leaves a right count alone (an absent row counts zero)", () => {
    expect(repairedCount({ value: 3, version: 9 }, 3, NOW_MS)).toBeUndefined();
    expect(repairedCount(undefined, 0, NOW_MS)).toBeUndefined();
  });

  it("sets a wrong one to the active edges with a version above the clock in µs (above every transition's)", () => {
    expect(repairedCount({ value: 4, version: 9 }, 3, NOW_MS)).toEqual({ value: 3, version: NOW_MS * 1_000 });
    expect(repairedCount({ value: 3, version: NOW_MS * 2_000 }, 0, NOW_MS)).toEqual({ value: 0, version: NOW_MS * 2_000 + 1 });
    expect(repairedCount(undefined, 2, NOW_MS)).toEqual({ value: 2, version: NOW_MS * 1_000 });
  });
});

describe("raisedCount", () => {
  it("keeps the value and raises the version above the stored one, the copy's and the clock", () => {
    expect(raisedCount({ value: 7, version: 5 }, 6, NOW_MS)).toEqual({ value: 7, version: NOW_MS * 1_000 });
    expect(raisedCount({ value: 7, version: 5 }, NOW_MS * 3_000, NOW_MS)).toEqual({ value: 7, version: NOW_MS * 3_000 + 1 });
    expect(raisedCount(undefined, 0, NOW_MS)).toEqual({ value: 0, version: NOW_MS * 1_000 });
  });
});

describe("countWrites", () => {
  it("updates stored rows, inserts new ones, and publishes each new count", () => {
    const w = countWrites(
      "follower",
      [
        { user: 1, stored: { value: 2, version: 3 }, next: { value: 4, version: 5 } },
        { user: 2, stored: undefined, next: { value: 1, version: 6 } },
      ],
      NOW_MS,
    );
    expect(w.existing).toEqual([[1, 4, 5, NOW_MS]]);
    expect(w.created).toEqual([[2, 1, 6, NOW_MS]]);
    expect(w.changes).toEqual([
      { userId: 1, name: "follower", value: 4, version: 5 },
      { userId: 2, name: "follower", value: 1, version: 6 },
    ]);
  });
});

describe("countsAfterMoves", () => {
  it("writes the moved counts, publishes the stored count of an owner whose edges got nothing newer, and counts underflows", () => {
    const moves = new Map([
      [1, { delta: 1, newest: 50 }],
      [3, { delta: -1, newest: 60 }],
      [4, { delta: 2, newest: 70 }],
    ]);
    const stored = new Map([
      [1, { value: 4, version: 40 }],
      [2, { value: 9, version: 20 }],
      [3, { value: 0, version: 30 }],
    ]);
    const r = countsAfterMoves("following", [1, 2, 3, 4, 5], moves, stored, NOW_MS);
    expect(r.changes).toEqual([
      { userId: 1, name: "following", value: 5, version: 50 },
      { userId: 2, name: "following", value: 9, version: 20 },
      { userId: 3, name: "following", value: 0, version: 60 },
      { userId: 4, name: "following", value: 2, version: 70 },
    ]);
    expect(r.existing).toEqual([
      [1, 5, 50, NOW_MS],
      [3, 0, 60, NOW_MS],
    ]);
    expect(r.created).toEqual([[4, 2, 70, NOW_MS]]);
    expect(r.underflows).toBe(1);
  });
});
