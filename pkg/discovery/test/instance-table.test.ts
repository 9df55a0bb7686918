import { describe, expect, it } from "vitest";
import { InstanceTable } from "../src/instance-table.js";
import type { Instance } from "../src/instance.js";

const inst = (id: string, port = 1000): Instance => ({ instanceId: id, address: `10.0.0.1:${port}`, startedAt: "t" });
const ids = (t: InstanceTable) => t.list().map((i) => i.instanceId);
const GRACE = 1_000;

describe("InstanceTable", () => {
  it("applies put and delete events at once and reports real changes only", () => {
    const t = new InstanceTable(GRACE);
    expect(t.upsert(inst("b"))).toBe(true);
    expect(t.upsert(inst("a"))).toBe(true);
    expect(t.upsert(inst("a"))).toBe(false); // same value again: no change
    expect(t.upsert(inst("a", 2000))).toBe(true); // moved
    expect(ids(t)).toEqual(["a", "b"]);
    expect(t.remove("a")).toBe(true);
    expect(t.remove("a")).toBe(false);
    expect(ids(t)).toEqual(["b"]);
  });

  it("keeps instances a re-listing misses for the grace period, then drops them", () => {
    const t = new InstanceTable(GRACE);
    t.upsert(inst("a"));
    t.upsert(inst("b"));
    // etcd came back empty (data wiped): nothing disappears yet.
    expect(t.resync([], 10_000)).toBe(false);
    expect(ids(t)).toEqual(["a", "b"]);
    expect(t.nextExpiry()).toBe(10_000 + GRACE);
    // "a" registers again within the grace; "b" never does.
    t.upsert(inst("a"));
    expect(t.expire(10_000 + GRACE - 1)).toBe(false);
    expect(t.expire(10_000 + GRACE)).toBe(true);
    expect(ids(t)).toEqual(["a"]);
    expect(t.nextExpiry()).toBeUndefined();
  });

  it("a later listing that shows an instance again clears its stale mark", () => {
    const t = new InstanceTable(GRACE);
    t.upsert(inst("a"));
    t.resync([], 0);
    expect(t.resync([inst("a")], 500)).toBe(false);
    expect(t.expire(5_000)).toBe(false);
    expect(ids(t)).toEqual(["a"]);
  });

  it("a re-listing adds new instances at once and keeps the first stale time", () => {
    const t = new InstanceTable(GRACE);
    t.upsert(inst("old"));
    expect(t.resync([inst("new")], 0)).toBe(true);
    expect(ids(t)).toEqual(["new", "old"]);
    t.resync([inst("new")], 900); // still missing: the grace runs from the first miss
    expect(t.expire(GRACE)).toBe(true);
    expect(ids(t)).toEqual(["new"]);
  });

  it("a delete event removes a stale instance without waiting", () => {
    const t = new InstanceTable(GRACE);
    t.upsert(inst("a"));
    t.resync([], 0);
    expect(t.remove("a")).toBe(true);
    expect(ids(t)).toEqual([]);
  });
});
