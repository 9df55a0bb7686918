import { describe, expect, it } from "vitest";
import { AckModel } from "../model.js";

describe("the acknowledged-state model", () => {
  it("starts every pair not following, and an acknowledged write makes the pair exactly its target", () => {
    const m = new AckModel();
    expect(m.expected(1, 2)).toBe(false);
    m.record(1, 2, "follow", "ack", true);
    expect(m.expected(1, 2)).toBe(true);
    m.record(1, 2, "unfollow", "ack", true);
    expect(m.expected(1, 2)).toBe(false);
    expect(m.stale).toEqual([]);
  });

  it("keeps the state on a refused write, and opens it on a write of unknown outcome until an acknowledged one", () => {
    const m = new AckModel();
    m.record(1, 2, "follow", "refused");
    expect(m.expected(1, 2)).toBe(false);
    m.record(1, 2, "follow", "unknown");
    expect(m.expected(1, 2)).toBeUndefined();
    expect(m.believed(1, 2)).toBe(true);
    expect(m.unsettled()).toEqual([{ from: 1, to: 2, op: "follow" }]);
    // after an unknown outcome, an acknowledged write's `changed` proves nothing stale
    m.record(1, 2, "follow", "ack", false);
    expect(m.expected(1, 2)).toBe(true);
    expect(m.unsettled()).toEqual([]);
    expect(m.stale).toEqual([]);
  });

  it("an unknown write whose target is already the exact state leaves the pair exact", () => {
    const m = new AckModel();
    m.record(1, 2, "unfollow", "unknown");
    expect(m.expected(1, 2)).toBe(false);
  });

  it("flags an acknowledged answer whose changed flag contradicts the acknowledged earlier state", () => {
    const m = new AckModel();
    m.record(1, 2, "follow", "ack", true, 10);
    const s = m.record(1, 2, "unfollow", "ack", false, 20);
    expect(s).toEqual({ from: 1, to: 2, op: "unfollow", changed: false, before: true, at: 20 });
    expect(m.stale).toHaveLength(1);
    // the answer still defines the state
    expect(m.expected(1, 2)).toBe(false);
    // a no-op answered as one is fine
    expect(m.record(1, 2, "unfollow", "ack", false)).toBeUndefined();
  });

  it("separates the pairs of different writers and lists the exact follows of a user", () => {
    const m = new AckModel();
    m.record(1, 2, "follow", "ack", true);
    m.record(1, 3, "follow", "unknown");
    m.record(2, 1, "follow", "ack", true);
    expect(m.expectedFollowing(1, [2, 3, 4])).toEqual({ following: new Set([2]), open: new Set([3]) });
    expect(m.expectedFollowing(3, [1, 2])).toEqual({ following: new Set(), open: new Set() });
  });
});
