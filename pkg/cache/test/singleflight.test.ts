import { describe, expect, it } from "vitest";
import { Singleflight } from "../src/index.js";

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("Singleflight", () => {
  it("concurrent calls for one key share one execution and its value", async () => {
    const sf = new Singleflight<string, number>();
    const d = deferred<number>();
    let runs = 0;
    const calls = Array.from({ length: 10 }, () => sf.do("a", () => (runs++, d.promise)));
    expect(runs).toBe(1);
    expect(sf.has("a")).toBe(true);
    d.resolve(7);
    expect(await Promise.all(calls)).toEqual(Array(10).fill(7));
  });

  it("shares the error too, then forgets the key so the next call runs again", async () => {
    const sf = new Singleflight<string, number>();
    const boom = new Error("boom");
    let runs = 0;
    const fn = async () => {
      runs++;
      throw boom;
    };
    const results = await Promise.allSettled([sf.do("a", fn), sf.do("a", fn), sf.do("a", fn)]);
    expect(runs).toBe(1);
    for (const r of results) expect(r).toEqual({ status: "rejected", reason: boom });
    expect(sf.size).toBe(0);
    await expect(sf.do("a", async () => 1)).resolves.toBe(1);
    expect(runs).toBe(1);
  });

  it("a synchronous throw becomes a rejection and does not stick", async () => {
    const sf = new Singleflight<string, number>();
    await expect(
      sf.do("a", () => {
        throw new Error("sync");
      }),
    ).rejects.toThrow("sync");
    expect(sf.has("a")).toBe(false);
  });

  it("different keys run independently; a settled key runs afresh", async () => {
    const sf = new Singleflight<number, string>();
    let runs = 0;
    const fn = (v: string) => async () => (runs++, v);
    expect(await Promise.all([sf.do(1, fn("x")), sf.do(2, fn("y"))])).toEqual(["x", "y"]);
    expect(await sf.do(1, fn("z"))).toBe("z");
    expect(runs).toBe(3);
  });

  it("forget lets a new call start while the old one runs, and the old one does not evict the new", async () => {
    const sf = new Singleflight<string, number>();
    const first = deferred<number>();
    const second = deferred<number>();
    const a = sf.do("k", () => first.promise);
    sf.forget("k");
    const b = sf.do("k", () => second.promise);
    first.resolve(1);
    expect(await a).toBe(1);
    expect(sf.has("k")).toBe(true);
    second.resolve(2);
    expect(await b).toBe(2);
    expect(sf.has("k")).toBe(false);
  });
});
