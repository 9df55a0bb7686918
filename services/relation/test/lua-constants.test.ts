/** Constants the TypeScript side shares with the relation Lua scripts say the same thing on both sides. */
import { describe, expect, it } from "vitest";
import { SENTINEL } from "../src/adapters/redis/following-reads.js";
import { FOLLOWING_INDEX_MIN } from "../src/adapters/redis/relation-keys.js";
import { scriptSources } from "../src/adapters/redis/relation-scripts.js";

describe("relation Lua constants", () => {
  const common = scriptSources().isFollowing;
  it("INDEX_MIN is FOLLOWING_INDEX_MIN", () => {
    expect(common).toMatch(new RegExp(`^local INDEX_MIN = ${FOLLOWING_INDEX_MIN}$`, "m"));
  });
  it("SENTINEL is the list sentinel the readers skip", () => {
    expect(common).toMatch(new RegExp(`^local SENTINEL = '${SENTINEL}'$`, "m"));
  });
});
