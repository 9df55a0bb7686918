import { describe, expect, it } from "vitest";
import { SlidingWindowTopK } from "../src/index.js";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const hit = (tk: SlidingWindowTopK, key: string, times: number) => {
  for (let i = 0; i < times; i++) tk.record(key);
};

describe("SlidingWindowTopK", () => {
  it("counts hits over the window and forgets them bucket by bucket as it slides", () => {
    const c = clock();
    const tk = new SlidingWindowTopK({ windowMs: 1_000, buckets: 10, k: 3, minHits: 1, now: c.now });
    hit(tk, "a", 5);
    c.advance(500);
    hit(tk, "a", 3);
    expect(tk.count("a")).toBe(8);
    c.advance(500); // the first 5 hits are now a window old
    expect(tk.count("a")).toBe(3);
    c.advance(500);
    expect(tk.count("a")).toBe(0);
  });

  it("keeps only the K hottest keys with at least minHits", () => {
    const c = clock();
    const tk = new SlidingWindowTopK({ windowMs: 1_000, buckets: 10, k: 2, minHits: 3, now: c.now });
    hit(tk, "big", 50);
    hit(tk, "mid", 20);
    hit(tk, "small", 10);
    hit(tk, "rare", 2);
    c.advance(100); // a bucket closes: recompute
    expect(tk.top()).toEqual([
      ["big", 50],
      ["mid", 20],
    ]);
    expect(tk.isHot("small")).toBe(false);
    expect(tk.isHot("rare")).toBe(false);
  });

  it("admits a key that overtakes the K-th one at once, without waiting for the bucket", () => {
    const c = clock();
    const tk = new SlidingWindowTopK({ windowMs: 1_000, buckets: 10, k: 1, minHits: 2, now: c.now });
    hit(tk, "a", 5);
    c.advance(100);
    expect(tk.top()).toEqual([["a", 5]]);
    hit(tk, "b", 5);
    expect(tk.isHot("b")).toBe(false);
    tk.record("b");
    expect(tk.isHot("b")).toBe(true);
    c.advance(100);
    expect(tk.top().map(([k]) => k)).toEqual(["b"]);
  });

  it("below K keys, minHits alone admits", () => {
    const c = clock();
    const tk = new SlidingWindowTopK({ windowMs: 1_000, buckets: 4, k: 10, minHits: 3, now: c.now });
    hit(tk, "a", 2);
    expect(tk.isHot("a")).toBe(false);
    tk.record("a");
    expect(tk.isHot("a")).toBe(true);
  });

  it("a key that cools down leaves the hot set when its hits leave the window", () => {
    const c = clock();
    const seen: string[][] = [];
    const tk = new SlidingWindowTopK({ windowMs: 1_000, buckets: 10, k: 5, minHits: 3, now: c.now, onRecompute: (h) => seen.push([...h]) });
    hit(tk, "a", 10);
    c.advance(100);
    expect(tk.isHot("a")).toBe(true);
    c.advance(1_000);
    expect(tk.isHot("a")).toBe(false);
    expect(seen.at(-1)).toEqual([]);
  });

  it("bounds memory: beyond maxKeysPerBucket new keys are not counted in that bucket", () => {
    const c = clock();
    const tk = new SlidingWindowTopK({ windowMs: 1_000, buckets: 10, k: 5, minHits: 1, maxKeysPerBucket: 3, now: c.now });
    for (const k of ["a", "b", "c", "d"]) tk.record(k);
    expect(tk.count("c")).toBe(1);
    expect(tk.count("d")).toBe(0);
    expect(tk.record("a")).toBe(2);
    c.advance(100);
    expect(tk.record("d")).toBe(1);
  });

  it("a long idle gap empties the window", () => {
    const c = clock();
    const tk = new SlidingWindowTopK({ windowMs: 1_000, buckets: 10, k: 5, minHits: 1, now: c.now });
    hit(tk, "a", 4);
    c.advance(1_000_000);
    expect(tk.count("a")).toBe(0);
    expect(tk.top()).toEqual([]);
  });
});
