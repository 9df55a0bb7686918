import { describe, expect, it } from "vitest";
import { joinIds } from "../src/adapters/redis/id-list.js";

describe("joinIds", () => {
  it("writes what join(',') writes, across the digit boundary and up to the largest safe integer", () => {
    const edges = [1, 9, 10, 99_999_999, 100_000_000, 100_000_001, 1_000_000_000_000, 1_000_000_000_007, 1_800_000_000_000_000, 2 ** 31, 2 ** 53 - 1];
    expect(joinIds(edges)).toBe(edges.join(","));
    // low halves with leading zeros: 12 00000345
    expect(joinIds([1_200_000_345])).toBe("1200000345");
  });

  it("matches join(',') on random ids of every size", () => {
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
    for (let round = 0; round < 200; round++) {
      const ids = Array.from({ length: 1 + Math.floor(rnd() * 100) }, () => 1 + Math.floor(rnd() * 10 ** Math.floor(1 + rnd() * 15)));
      expect(joinIds(ids)).toBe(ids.join(","));
    }
  });

  it("gives an empty string for no ids and no comma for one", () => {
    expect(joinIds([])).toBe("");
    expect(joinIds([42])).toBe("42");
  });
});
