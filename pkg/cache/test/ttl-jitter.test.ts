import { describe, expect, it } from "vitest";
import { ttlWithJitter } from "../src/index.js";

const DAY = 86_400;

describe("ttlWithJitter", () => {
  it("reaches both ends of base·(1±r)", () => {
    expect(ttlWithJitter(DAY, 0.1, () => 0)).toBe(DAY * 0.9);
    expect(ttlWithJitter(DAY, 0.1, () => 0.5)).toBe(DAY);
    expect(ttlWithJitter(DAY, 0.1, () => 0.999_999_9)).toBe(Math.round(DAY * 1.1));
  });

  it("spreads values over the whole range, centred on the base", () => {
    const xs = Array.from({ length: 20_000 }, () => ttlWithJitter(DAY, 0.2));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(DAY * 0.8);
    expect(Math.max(...xs)).toBeLessThanOrEqual(DAY * 1.2);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - DAY) / DAY).toBeLessThan(0.01);
    expect(new Set(xs).size).toBeGreaterThan(5_000);
    // Both halves of the range are used about equally.
    const low = xs.filter((x) => x < DAY).length / xs.length;
    expect(low).toBeGreaterThan(0.45);
    expect(low).toBeLessThan(0.55);
  });

  it("gives whole seconds, never below 1, and no jitter when r = 0", () => {
    expect(ttlWithJitter(1, 0.9, () => 0)).toBe(1);
    expect(Number.isInteger(ttlWithJitter(10, 0.33))).toBe(true);
    expect(ttlWithJitter(60, 0)).toBe(60);
  });

  it("refuses nonsense", () => {
    expect(() => ttlWithJitter(0, 0.1)).toThrow(RangeError);
    expect(() => ttlWithJitter(10, 1)).toThrow(RangeError);
    expect(() => ttlWithJitter(10, -0.1)).toThrow(RangeError);
    expect(() => ttlWithJitter(Number.NaN, 0.1)).toThrow(RangeError);
  });
});
