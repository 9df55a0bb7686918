import { AsyncLocalStorage } from "node:async_hooks";
import { describe, expect, it } from "vitest";
import { BatchCoalescer } from "../src/index.js";

/** A load that records each call's keys and answers `v<key>` for every key but 13. */
function recordingLoad() {
  const calls: number[][] = [];
  const load = (keys: number[]) => {
    calls.push([...keys].sort((a, b) => a - b));
    return Promise.resolve(new Map(keys.filter((k) => k !== 13).map((k) => [k, `v${k}`] as const)));
  };
  return { calls, load };
}

describe("BatchCoalescer", () => {
  it("lookups asked for in one turn share one load, and each caller finds its own keys", async () => {
    const { calls, load } = recordingLoad();
    const c = new BatchCoalescer(load, { maxKeys: 100 });
    const [a, b, d] = await Promise.all([c.get([1, 2]), c.get([2, 3]), c.get([13])]);
    expect(calls).toEqual([[1, 2, 3, 13]]);
    expect([a.get(1), a.get(2), b.get(2), b.get(3)]).toEqual(["v1", "v2", "v2", "v3"]);
    expect(d.has(13)).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it("lookups of later turns get loads of their own", async () => {
    const { calls, load } = recordingLoad();
    const c = new BatchCoalescer(load, { maxKeys: 100 });
    await c.get([1]);
    await c.get([2]);
    expect(calls).toEqual([[1], [2]]);
  });

  it("never puts more than maxKeys distinct keys in one load; a caller asking for more gets one of its own", async () => {
    const { calls, load } = recordingLoad();
    const c = new BatchCoalescer(load, { maxKeys: 4 });
    const pages = await Promise.all([c.get([1, 2, 3]), c.get([3, 4]), c.get([5, 6]), c.get([7, 8, 9, 10, 11, 12])]);
    expect(calls).toEqual([
      [1, 2, 3, 4],
      [5, 6],
      [7, 8, 9, 10, 11, 12],
    ]);
    expect(pages.map((p) => p.size)).toEqual([4, 4, 2, 6]);
    // maxKeys 1: every page is its own load, started at once
    const single = new BatchCoalescer(load, { maxKeys: 1 });
    calls.length = 0;
    await Promise.all([single.get([1, 2]), single.get([3])]);
    expect(calls).toEqual([[1, 2], [3]]);
  });

  it("a failed load fails every caller that shared it, and only those", async () => {
    let n = 0;
    const c = new BatchCoalescer<number, string>(
      (keys) => (n++ === 0 ? Promise.reject(new Error("down")) : Promise.resolve(new Map(keys.map((k) => [k, "ok"])))),
      {
        maxKeys: 10,
      },
    );
    const first = [c.get([1]), c.get([2])];
    await expect(
      Promise.all(
        first.map((p) =>
          p.then(
            () => "resolved",
            (e: Error) => e.message,
          ),
        ),
      ),
    ).resolves.toEqual(["down", "down"]);
    await expect(c.get([3])).resolves.toEqual(new Map([[3, "ok"]]));
    // a load that throws instead of returning a rejected promise fails its callers the same way
    const throwing = new BatchCoalescer<number, string>(
      () => {
        throw new Error("sync");
      },
      { maxKeys: 10 },
    );
    await expect(Promise.all([throwing.get([1]), throwing.get([2])])).rejects.toThrow("sync");
  });

  it("runs the shared load in the context of the caller whose deadline is earliest", async () => {
    const als = new AsyncLocalStorage<{ name: string; deadline: number }>();
    const seen: string[] = [];
    const c = new BatchCoalescer<number, string>(
      (keys) => {
        seen.push(als.getStore()?.name ?? "none");
        return Promise.resolve(new Map(keys.map((k) => [k, "x"])));
      },
      { maxKeys: 10, deadlineOf: () => als.getStore()?.deadline },
    );
    await Promise.all([
      als.run({ name: "late", deadline: 2_000 }, () => c.get([1])),
      als.run({ name: "early", deadline: 1_000 }, () => c.get([2])),
      c.get([3]), // no deadline
    ]);
    expect(seen).toEqual(["early"]);
  });
});
