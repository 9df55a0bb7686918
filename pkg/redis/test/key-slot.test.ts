import { describe, expect, it } from "vitest";
import { keySlot } from "../src/index.js";

describe("keySlot", () => {
  it("is the slot Redis Cluster gives a key (values from CLUSTER KEYSLOT)", () => {
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("bar")).toBe(5061);
    expect(keySlot("123456789")).toBe(12739);
  });
  it("hashes only the first non-empty hash tag", () => {
    expect(keySlot("{user1000}.following")).toBe(keySlot("user1000"));
    expect(keySlot("x{y}z{w}")).toBe(keySlot("y"));
    // an empty tag does not count: the whole key is hashed
    expect(keySlot("a{}b")).toBe(13694);
  });
});
