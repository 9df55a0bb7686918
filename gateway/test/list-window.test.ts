import { describe, expect, it } from "vitest";
import type { relationV1 } from "@rs/idl";
import { Code } from "@rs/errors";
import { LIST_LIMIT_MAX } from "@rs/idl";
import { readWindow, type PageFetch } from "../src/clients/list-window.js";

const WALK = { LIST_WALK_DEADLINE_MS: 3_000, GRPC_DEADLINE_MS: 2_000 };

const user = (id: number): relationV1.RelationUser => ({
  id,
  name: `u${id}`,
  avatar: "",
  backgroundImage: "",
  signature: "",
  followCount: 0,
  followerCount: 0,
  isFollow: false,
  followedAtMs: 1_000_000 - id,
});

/** A keyset-paged list of ids 1..n (newest first = ascending id here); the cursor is the last id seen. */
function pager(n: number, opts: { shortBy?: number } = {}) {
  const calls: Array<{ cursor: string; limit: number }> = [];
  const fetch: PageFetch = async (cursor, limit) => {
    calls.push({ cursor, limit });
    expect(limit).toBeGreaterThanOrEqual(1);
    expect(limit).toBeLessThanOrEqual(LIST_LIMIT_MAX);
    const after = cursor === "" ? 0 : Number(cursor);
    // A page may come back short (friends filtered after the scan) while more follow.
    const size = Math.max(1, limit - (opts.shortBy ?? 0));
    const ids = Array.from({ length: Math.min(size, n - after) }, (_, i) => after + i + 1);
    const last = ids.at(-1) ?? after;
    return { users: ids.map(user), nextCursor: last < n ? String(last) : "", totalCount: n };
  };
  return { fetch, calls };
}

describe("offset windows over cursor pages", () => {
  it("page 3 of size 20 is items 41..60, read in one call", async () => {
    const { fetch, calls } = pager(500);
    const w = await readWindow(fetch, 40, 20, WALK);
    expect(w.users.map((u) => u.id)).toEqual(Array.from({ length: 20 }, (_, i) => 41 + i));
    expect(w.totalCount).toBe(500);
    expect(w.nextCursor).toBe("60");
    expect(calls).toEqual([{ cursor: "", limit: 60 }]);
  });

  it("deep windows walk in pages of at most 100 and never fetch past the window", async () => {
    const { fetch, calls } = pager(1000);
    const w = await readWindow(fetch, 230, 20, WALK);
    expect(w.users.map((u) => u.id)).toEqual(Array.from({ length: 20 }, (_, i) => 231 + i));
    expect(calls.map((c) => c.limit)).toEqual([100, 100, 50]);
  });

  it("a window past the end is empty; one across the end is cut", async () => {
    expect((await readWindow(pager(30).fetch, 40, 20, WALK)).users).toEqual([]);
    const w = await readWindow(pager(30).fetch, 20, 20, WALK);
    expect(w.users.map((u) => u.id)).toEqual(Array.from({ length: 10 }, (_, i) => 21 + i));
    expect(w.nextCursor).toBe("");
  });

  it("short pages are followed until the window is full", async () => {
    const w = await readWindow(pager(300, { shortBy: 7 }).fetch, 0, 150, WALK);
    expect(w.users.map((u) => u.id)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
  });

  it("a service that never ends a list cannot keep the gateway walking", async () => {
    let calls = 0;
    const endless: PageFetch = async () => {
      calls++;
      return { users: [], nextCursor: "x", totalCount: 1 };
    };
    const w = await readWindow(endless, 0, 20, WALK);
    expect(w.users).toEqual([]);
    expect(calls).toBeLessThanOrEqual(11);
  });

  it("every call gets what is left of the walk's deadline, at most a call's own; past it the walk stops with DEADLINE_EXCEEDED", async () => {
    const deadlines: number[] = [];
    const slow: PageFetch = async (cursor, limit, deadlineMs) => {
      deadlines.push(deadlineMs);
      await new Promise((r) => setTimeout(r, 40));
      const after = cursor === "" ? 0 : Number(cursor);
      return { users: Array.from({ length: limit }, (_, i) => user(after + i + 1)), nextCursor: String(after + limit), totalCount: 1_000 };
    };
    const err = await readWindow(slow, 500, 100, { LIST_WALK_DEADLINE_MS: 100, GRPC_DEADLINE_MS: 60 }).then(
      () => expect.unreachable("the walk should stop"),
      (e: { code: number; details: string }) => e,
    );
    expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(err.details).toBe("listing took longer than 100 ms; ask for a shallower page or use the cursor route");
    expect(deadlines.length).toBeLessThanOrEqual(3);
    expect(deadlines[0]).toBe(60);
    expect(deadlines.at(-1)!).toBeLessThan(60);
  });
});
