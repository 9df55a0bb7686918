import { virtualShardOf } from "@rs/mysql";
import { describe, expect, it } from "vitest";
import { usernameRoutingKey } from "../src/adapters/mysql/username-shard.js";

describe("username routing", () => {
  it("is the first 48 bits of SHA-256, stable across releases", () => {
    // sha256("alice") = 2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90
    expect(usernameRoutingKey("alice")).toBe(0x2bd806c97f0e);
    expect(usernameRoutingKey("Alice")).not.toBe(usernameRoutingKey("alice")); // byte for byte, like the column
    expect(Number.isSafeInteger(usernameRoutingKey("😀".repeat(32)))).toBe(true);
  });

  it("spreads names evenly over the virtual shards", () => {
    const V = 64;
    const perShard = new Array<number>(V).fill(0);
    const N = 64_000;
    for (let i = 0; i < N; i++) perShard[virtualShardOf(usernameRoutingKey(`user${i}`), V)]!++;
    expect(Math.min(...perShard)).toBeGreaterThan((N / V) * 0.85);
    expect(Math.max(...perShard)).toBeLessThan((N / V) * 1.15);
  });
});
