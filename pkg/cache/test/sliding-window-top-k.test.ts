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

describe("SlidingWindowTopK against a plain model of the window", () => {
  it("counts and the hot set agree with recounting every hit of the window, over a random run", () => {
    const c = clock();
    const windowMs = 1_000;
    const buckets = 10;
    const k = 4;
    const minHits = 3;
    const tk = new SlidingWindowTopK<number>({ windowMs, buckets, k, minHits, now: c.now });
    const hits: { bucket: number; key: number; n: number }[] = [];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const inWindow = (key: number) => {
      const now = Math.floor(c.now() / (windowMs / buckets));
      return hits.filter((h) => h.key === key && h.bucket > now - buckets).reduce((s, h) => s + h.n, 0);
    };
    for (let step = 0; step < 3_000; step++) {
      c.advance(rand(4) === 0 ? rand(400) : 0);
      const key = rand(3) === 0 ? rand(3) : rand(40);
      const n = 1 + rand(2);
      hits.push({ bucket: Math.floor(c.now() / (windowMs / buckets)), key, n });
      expect(tk.record(key, n)).toBe(inWindow(key));
      if (step % 50 === 0) {
        for (let key2 = 0; key2 < 40; key2++) expect(tk.count(key2)).toBe(inWindow(key2));
        // Every hot key has at least minHits in the window, and at most K keys were hot at the last recompute plus those admitted since.
        for (const [key2, n2] of tk.top()) expect(n2).toBe(inWindow(key2));
        for (const [, n2] of tk.top()) expect(n2).toBeGreaterThanOrEqual(minHits);
      }
    }
  });
});
