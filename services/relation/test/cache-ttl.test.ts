import { describe, expect, it } from "vitest";
import { jitteredTtlMs } from "../src/adapters/redis/cache-ttl.js";
import { relationKeys } from "../src/adapters/redis/relation-keys.js";

describe("jitteredTtlMs", () => {
  it("stays within [base, base + jitter] and spreads", () => {
    expect(jitteredTtlMs(1_000, 100, () => 0)).toBe(1_000);
    expect(jitteredTtlMs(1_000, 100, () => 0.999_999)).toBe(1_100);
    const seen = new Set(Array.from({ length: 200 }, () => jitteredTtlMs(1_000, 100)));
    expect(seen.size).toBeGreaterThan(20);
    for (const v of seen) expect(v >= 1_000 && v <= 1_100).toBe(true);
  });

  it("refuses nonsense", () => {
    expect(() => jitteredTtlMs(0, 1)).toThrow(RangeError);
    expect(() => jitteredTtlMs(1, -1)).toThrow(RangeError);
  });
});

describe("relationKeys", () => {
  it("tags every key of a user with {id} so one script stays in one slot", () => {
    const k = relationKeys("p:");
    for (const key of [k.following(7), k.meta(7), k.pending(7), k.outbox(7), k.fans(7), k.fansVersions(7)]) {
      expect(key.startsWith("p:")).toBe(true);
      expect(key.endsWith(":{7}")).toBe(true);
    }
    expect(new Set([k.following(7), k.meta(7), k.pending(7), k.outbox(7), k.fans(7), k.fansVersions(7)]).size).toBe(6);
  });

  it("refuses a prefix that would move the hash tag", () => {
    expect(() => relationKeys("a{b}:")).toThrow(RangeError);
  });
});
