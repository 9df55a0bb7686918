/**
 * The persister's decisions over edge rows: for one row, which transitions
 * apply, what the row becomes and how the count moves; for a batch on one
 * side, which rows are written and how far each owner's count moves.
 * Replays, duplicates and stale events must change nothing.
 */
import { describe, expect, it } from "vitest";
import { foldEdge, foldSide, groupByEdge, type EdgeEvent, type EdgeRow } from "../src/persister/edge-fold.js";
import { FANS_SIDE, FOLLOWS_SIDE } from "../src/persister/edge-side.js";
import { decodeRelationEvent, encodeRelationEvent } from "../src/adapters/kafka/relation-event.codec.js";

const ev = (action: "follow" | "unfollow", version: number, occurredAtMs = version * 10, extra: Partial<EdgeEvent> = {}): EdgeEvent => ({
  from: 1,
  to: 2,
  action,
  version,
  occurredAtMs,
  source: 7,
  ...extra,
});
const row = (status: 0 | 1, version: number, createdAtMs = 100): EdgeRow => ({ status, version, createdAtMs, updatedAtMs: createdAtMs, source: 3 });

describe("foldEdge", () => {
  it("a follow of a new edge inserts an active row and counts +1", () => {
    const f = foldEdge(undefined, [ev("follow", 5, 50)]);
    expect(f.next).toEqual({ status: 1, version: 5, createdAtMs: 50, updatedAtMs: 50, source: 7 });
    expect(f.delta).toBe(1);
  });

  it("an unfollow of an unknown edge writes a tombstone (so an older follow stays stale) and counts 0", () => {
    const f = foldEdge(undefined, [ev("unfollow", 6, 60)]);
    expect(f.next).toMatchObject({ status: 0, version: 6 });
    expect(f.delta).toBe(0);
    expect(foldEdge(f.next, [ev("follow", 5)]).next).toBeUndefined();
  });

  it("replays and stale events change nothing", () => {
    const r = row(1, 10);
    for (const events of [[ev("follow", 10)], [ev("unfollow", 9)], [ev("follow", 3), ev("unfollow", 4)]]) {
      expect(foldEdge(r, events)).toEqual({ next: undefined, delta: 0, newest: undefined, applied: 0 });
    }
  });

  it("applies the newer events in version order whatever their order in the batch", () => {
    const f = foldEdge(row(1, 10, 100), [ev("follow", 13, 4_000), ev("unfollow", 11, 3_000), ev("unfollow", 12, 3_500), ev("follow", 9)]);
    expect(f.next).toEqual({ status: 1, version: 13, createdAtMs: 4_000, updatedAtMs: 4_000, source: 7 });
    expect(f.delta).toBe(0);
    expect(f.newest?.version).toBe(13);
  });

  it("an unfollow of an active edge counts −1 and keeps its list time", () => {
    const f = foldEdge(row(1, 10, 100), [ev("unfollow", 11, 3_000)]);
    expect(f.next).toEqual({ status: 0, version: 11, createdAtMs: 100, updatedAtMs: 3_000, source: 3 });
    expect(f.delta).toBe(-1);
  });

  it("a follow of an already active edge (an undo of an unfollow that never got here) only moves the version", () => {
    const f = foldEdge(row(1, 10, 100), [ev("follow", 12, 100)]);
    expect(f.next).toEqual({ status: 1, version: 12, createdAtMs: 100, updatedAtMs: 100, source: 3 });
    expect(f.delta).toBe(0);
  });

  it("duplicates inside a batch count once", () => {
    const f = foldEdge(undefined, [ev("follow", 5), ev("follow", 5), ev("follow", 5)]);
    expect(f.delta).toBe(1);
    expect(f.applied).toBe(1);
  });

  it("a reconciler copy replaces the list time, and settles an equal version only when marked as a replacement", () => {
    const copy = ev("follow", 12, 900, { listedAtMs: 800 });
    expect(foldEdge(row(1, 10, 100), [copy]).next).toEqual({ status: 1, version: 12, createdAtMs: 800, updatedAtMs: 900, source: 7 });
    expect(foldEdge(row(1, 12, 100), [copy]).next).toBeUndefined();
    const settle = foldEdge(row(0, 12, 100), [{ ...copy, replace: true }]);
    expect(settle.next).toMatchObject({ status: 1, version: 12, createdAtMs: 800 });
    expect(settle.delta).toBe(1);
  });
});

describe("groupByEdge and foldSide", () => {
  const t = (from: number, to: number, action: "follow" | "unfollow", version: number): EdgeEvent => ({
    from,
    to,
    action,
    version,
    occurredAtMs: version * 10,
    source: 7,
  });

  it("groups a batch by the edge each side keys it by: the follower on follows, the followee on fans", () => {
    const batch = [t(1, 2, "follow", 5), t(1, 3, "follow", 6), t(1, 2, "unfollow", 7)];
    expect(groupByEdge(FOLLOWS_SIDE, batch).map((e) => [e.key, e.events.length])).toEqual([
      ["1:2", 2],
      ["1:3", 1],
    ]);
    expect(groupByEdge(FANS_SIDE, batch).map((e) => [e.owner, e.other])).toEqual([
      [2, 1],
      [3, 1],
    ]);
  });

  it("writes changed rows (update when stored, insert when not) and moves each owner's count by its net transitions", () => {
    const batch = [t(1, 2, "follow", 50), t(1, 3, "unfollow", 60), t(4, 5, "follow", 70), t(4, 6, "follow", 80)];
    const fold = foldSide(groupByEdge(FOLLOWS_SIDE, batch), new Map([["1:3", row(1, 10)]]));
    expect(fold.created.map((r) => [r.owner, r.other, r.status])).toEqual([
      [1, 2, 1],
      [4, 5, 1],
      [4, 6, 1],
    ]);
    expect(fold.existing.map((r) => [r.owner, r.other, r.status, r.version])).toEqual([[1, 3, 0, 60]]);
    // owner 1: +1 and −1 cancel out; owner 4: +2, newest transition 80
    expect([...fold.moves]).toEqual([[4, { delta: 2, newest: 80 }]]);
    expect(fold).toMatchObject({ edgesChanged: 4, transitions: 4, eventsApplied: 4 });
    expect(fold.unchangedOwners.size).toBe(0);
  });

  it("a replay changes no row and no count; its owner's stored count is published again, and it is current only if it is the row's state", () => {
    const fold = foldSide(
      groupByEdge(FOLLOWS_SIDE, [t(1, 2, "follow", 10), t(3, 4, "follow", 5)]),
      new Map([
        ["1:2", row(1, 10)],
        ["3:4", row(0, 9)],
      ]),
    );
    expect(fold.existing).toEqual([]);
    expect(fold.created).toEqual([]);
    expect(fold.moves.size).toBe(0);
    expect([...fold.unchangedOwners]).toEqual([1, 3]);
    expect(fold.current.map((e) => e.version)).toEqual([10]);
  });
});

describe("relation event codec", () => {
  it("round-trips a transition and refuses records that cannot be one", () => {
    const e = { from: 11, to: 22, action: "unfollow" as const, version: 1_700_000_000_000_123, occurredAtMs: 1_700_000_000_000, source: -3 };
    expect(decodeRelationEvent(encodeRelationEvent(e))).toEqual({ ok: true, event: e });
    expect(decodeRelationEvent(Buffer.from([0xff, 0xff, 0xff]))).toMatchObject({ ok: false });
    expect(decodeRelationEvent(null)).toMatchObject({ ok: false });
    expect(decodeRelationEvent(encodeRelationEvent({ ...e, to: 11 }))).toMatchObject({ ok: false, reason: "self-follow" });
    expect(decodeRelationEvent(encodeRelationEvent({ ...e, version: 0 }))).toMatchObject({ ok: false });
  });
});
