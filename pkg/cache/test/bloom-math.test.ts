import { describe, expect, it } from "vitest";
import { bloomLayout, bloomPositions, expectedFalsePositiveRate } from "../src/index.js";

describe("bloomLayout", () => {
  it("sizes the filter by the textbook formulas", () => {
    const l = bloomLayout(100_000, 0.01);
    // m = -n ln p / ln²2 = 958,506 bits (~117 KiB), k = m/n ln 2 = 6.64 -> 7.
    expect(l.shards).toBe(1);
    expect(l.bitsPerShard).toBe(958_506);
    expect(l.hashes).toBe(7);
    expect(expectedFalsePositiveRate(l, 100_000)).toBeCloseTo(0.01, 3);
    expect(bloomLayout(1_000_000, 0.001).hashes).toBe(10);
  });

  it("shards a large filter into bitmaps of at most maxBitsPerShard", () => {
    const l = bloomLayout(100_000, 0.01, 2 ** 17);
    expect(l.shards).toBe(8);
    expect(l.bitsPerShard).toBeLessThanOrEqual(2 ** 17);
    expect(l.bitsPerShard * l.shards).toBeGreaterThanOrEqual(958_506);
    // 10M users at 0.1% is ~18 MiB: 18 shards of <= 1 MiB by default.
    expect(bloomLayout(10_000_000, 0.001).shards).toBe(18);
  });

  it("refuses impossible parameters", () => {
    expect(() => bloomLayout(0, 0.01)).toThrow(RangeError);
    expect(() => bloomLayout(10, 0)).toThrow(RangeError);
    expect(() => bloomLayout(10, 1)).toThrow(RangeError);
    expect(() => bloomLayout(10, 0.01, 2 ** 33)).toThrow(RangeError);
  });
});

describe("bloomPositions", () => {
  const l = bloomLayout(100_000, 0.01, 2 ** 17);

  it("is deterministic and stays in range", () => {
    for (let i = 0; i < 1_000; i++) {
      const p = bloomPositions(String(i), l);
      expect(p).toEqual(bloomPositions(String(i), l));
      expect(p.offsets).toHaveLength(l.hashes);
      expect(p.shard).toBeGreaterThanOrEqual(0);
      expect(p.shard).toBeLessThan(l.shards);
      for (const o of p.offsets) expect(o >= 0 && o < l.bitsPerShard && Number.isInteger(o)).toBe(true);
    }
  });

  it("spreads items evenly over shards and bits", () => {
    const perShard = new Array<number>(l.shards).fill(0);
    const perBitBucket = new Array<number>(16).fill(0);
    const n = 80_000;
    for (let i = 0; i < n; i++) {
      const p = bloomPositions(`user:${i}`, l);
      perShard[p.shard]!++;
      for (const o of p.offsets) perBitBucket[Math.floor((o / l.bitsPerShard) * 16)]!++;
    }
    for (const c of perShard) expect(Math.abs(c - n / l.shards) / (n / l.shards)).toBeLessThan(0.05);
    const perBucket = (n * l.hashes) / 16;
    for (const c of perBitBucket) expect(Math.abs(c - perBucket) / perBucket).toBeLessThan(0.05);
  });

  it("k positions of an item are distinct", () => {
    for (let i = 0; i < 1_000; i++) expect(new Set(bloomPositions(`x${i}`, l).offsets).size).toBe(l.hashes);
  });
});
