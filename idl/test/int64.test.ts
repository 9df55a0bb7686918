import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { relationV1 } from "../src/index.js";
import { INT64_FAST_PATH, readInt64, readInt64Slow, writeInt64 } from "../src/wire/int64.js";

const EDGES = [
  0,
  1,
  127,
  128,
  16_383,
  16_384,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 52,
  Number.MAX_SAFE_INTEGER,
  -1,
  -128,
  -(2 ** 31),
  -(2 ** 32),
  -(2 ** 32) - 1,
  Number.MIN_SAFE_INTEGER,
];

function randomValues(count: number): number[] {
  let seed = 12_345;
  const rnd = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
  return Array.from({ length: count }, () => {
    const magnitude = Math.floor(rnd() * 2 ** (1 + Math.floor(rnd() * 53)));
    return rnd() < 0.2 ? 0 - magnitude : magnitude; // 0 - 0 is +0: int64 has no -0
  });
}

describe("int64 as numbers", () => {
  it("uses the fast path with the installed @bufbuild/protobuf", () => {
    expect(INT64_FAST_PATH).toBe(true);
  });

  it("writes the same bytes as the library and reads back the same numbers", () => {
    const values = [...EDGES, ...randomValues(5_000)];
    const ours = new BinaryWriter();
    const lib = new BinaryWriter();
    for (const v of values) {
      writeInt64(ours, v);
      lib.int64(v);
    }
    const bytes = lib.finish();
    expect(Buffer.from(ours.finish()).equals(Buffer.from(bytes))).toBe(true);
    const fast = new BinaryReader(bytes);
    const slow = new BinaryReader(bytes);
    for (const v of values) {
      expect(readInt64(fast)).toBe(v);
      expect(readInt64Slow(slow)).toBe(v);
    }
  });

  it("refuses a value beyond ±(2^53 − 1) with the library path's message", () => {
    for (const [big, message] of [
      [2n ** 53n, "larger"],
      [2n ** 63n - 1n, "larger"],
      [-(2n ** 53n), "smaller"],
      [-(2n ** 63n), "smaller"],
    ] as const) {
      const bytes = new BinaryWriter().int64(big).finish();
      expect(() => readInt64(new BinaryReader(bytes))).toThrow(message);
      expect(() => readInt64Slow(new BinaryReader(bytes))).toThrow(message);
    }
  });

  it("writes a value that is not a safe integer as the library does (or fails as it does)", () => {
    for (const v of [2 ** 53, 1.5, Number.NaN]) {
      const ours = (() => {
        try {
          return Buffer.from(writeInt64(new BinaryWriter(), v).finish()).toString("hex");
        } catch (err) {
          return `error: ${(err as Error).message}`;
        }
      })();
      const lib = (() => {
        try {
          return Buffer.from(new BinaryWriter().int64(v).finish()).toString("hex");
        } catch (err) {
          return `error: ${(err as Error).message}`;
        }
      })();
      expect(ours).toBe(lib);
    }
  });

  it("round-trips generated messages through it", () => {
    const ids = [1, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER, 1_733_000_000_123];
    const req = relationV1.BatchIsFollowingRequest.decode(relationV1.BatchIsFollowingRequest.encode({ fromUserId: 2 ** 40, toUserIds: ids }).finish());
    expect(req).toEqual({ fromUserId: 2 ** 40, toUserIds: ids });
  });
});
