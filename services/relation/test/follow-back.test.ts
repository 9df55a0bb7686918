import { describe, expect, it } from "vitest";
import { followsBack, newestFirst } from "../src/domain/follow-back.js";
import type { PendingEntry } from "../src/domain/relation-transition.js";

const pending = (action: "follow" | "unfollow", version: number): PendingEntry => ({ to: 1, action, version, timeMs: 5, source: 0, prevTimeMs: 0 });

describe("followsBack", () => {
  it("uses the shard row when nothing is pending", () => {
    expect(followsBack(undefined, undefined)).toBe(false);
    expect(followsBack({ active: true, version: 3 }, undefined)).toBe(true);
    expect(followsBack({ active: false, version: 3 }, undefined)).toBe(false);
  });

  it("lets a newer pending transition override the row, and only a newer one", () => {
    expect(followsBack(undefined, pending("follow", 1))).toBe(true);
    expect(followsBack({ active: true, version: 3 }, pending("unfollow", 4))).toBe(false);
    expect(followsBack({ active: false, version: 3 }, pending("follow", 4))).toBe(true);
    // persisted, not yet cleared: the row already says the same
    expect(followsBack({ active: true, version: 4 }, pending("follow", 4))).toBe(true);
    // an older pending entry cannot outvote the row
    expect(followsBack({ active: false, version: 9 }, pending("follow", 4))).toBe(false);
  });
});

describe("newestFirst", () => {
  it("merges lists by time desc, then id desc", () => {
    const a = [
      { id: 1, timeMs: 10 },
      { id: 5, timeMs: 5 },
    ];
    const b = [
      { id: 9, timeMs: 10 },
      { id: 2, timeMs: 7 },
    ];
    expect(newestFirst(a, b)).toEqual([
      { id: 9, timeMs: 10 },
      { id: 1, timeMs: 10 },
      { id: 2, timeMs: 7 },
      { id: 5, timeMs: 5 },
    ]);
  });
});
