import { describe, expect, it } from "vitest";
import { fmix32 } from "@rs/mysql";
import { CounterSlots, restBytes } from "../src/adapters/redis/counter-slot.js";

/** A deterministic pseudo-random generator (so a failure is reproducible). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

describe("counter slots", () => {
  it("fmix32 is a bijection on a sample (no two inputs of 2^20 collide)", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1 << 20; i++) seen.add(fmix32(i * 4099));
    expect(seen.size).toBe(1 << 20);
  });

  it("sizes the field to the bucket count", () => {
    expect(restBytes(1)).toBe(4);
    expect(restBytes(256)).toBe(3);
    expect(restBytes(65_536)).toBe(2);
    expect(restBytes(2 ** 32)).toBe(0);
    expect(new CounterSlots(65_536).of(2 ** 53 - 1).field.length).toBe(5);
    expect(new CounterSlots(1).of(2 ** 53 - 1).field.length).toBe(7);
  });

  it("never gives two ids the same bucket and field, for snowflake-like, small and random ids", () => {
    const rnd = lcg(7);
    const ids = new Set<number>();
    // snowflake-like: one timestamp, consecutive sequences and workers (differ only in low bits)
    for (let i = 0; i < 20_000; i++) ids.add(1_900_000_000_000 * 4096 + i);
    for (let i = 1; i < 20_000; i++) ids.add(i);
    while (ids.size < 100_000) ids.add(Math.floor(rnd() * 2 ** 21) * 2 ** 32 + Math.floor(rnd() * 2 ** 32));
    for (const buckets of [1, 256, 65_536, 1_000]) {
      const slots = new CounterSlots(buckets);
      const seen = new Set<string>();
      let outside = 0;
      for (const id of ids) {
        const s = slots.of(id);
        if (s.bucket >= buckets) outside++;
        seen.add(`${s.bucket}:${s.field.toString("latin1")}`);
      }
      expect(outside).toBe(0);
      expect(seen.size).toBe(ids.size);
    }
  });

  it("spreads consecutive snowflake ids evenly over the buckets", () => {
    const buckets = 256;
    const slots = new CounterSlots(buckets);
    const per = new Array<number>(buckets).fill(0);
    const n = 256 * 400;
    for (let i = 0; i < n; i++) per[slots.of(1_900_000_000_000 * 4096 + i * 4096).bucket]!++;
    // 400 expected per bucket; a binomial spread stays far inside ±25 %
    expect(Math.min(...per)).toBeGreaterThan(300);
    expect(Math.max(...per)).toBeLessThan(500);
  });

  it("refuses ids and bucket counts it cannot place", () => {
    expect(() => new CounterSlots(0)).toThrow(RangeError);
    expect(() => new CounterSlots(65_536).of(-1)).toThrow(RangeError);
    expect(() => new CounterSlots(65_536).of(2 ** 53)).toThrow(RangeError);
  });
});
