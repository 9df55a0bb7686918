import { describe, expect, it } from "vitest";
import { compareNewestFirst, decodeCursor, decodeOptionalCursor, encodeCursor, InvalidCursorError, isAfterCursor } from "../src/domain/cursor.js";

describe("cursor", () => {
  it("round-trips positions, including the largest safe values", () => {
    for (const pos of [
      { timeMs: 1, id: 1 },
      { timeMs: 1_795_566_567_118, id: 123_456_789_012_345 },
      { timeMs: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER },
    ]) {
      const text = encodeCursor(pos);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(text)).toEqual(pos);
    }
  });

  it("is opaque and compact (23 base64url characters)", () => {
    const text = encodeCursor({ timeMs: 1_795_566_567_118, id: 42 });
    expect(text).toHaveLength(23);
    expect(text).not.toContain("1795566567118");
  });

  it.each([
    ["empty", ""],
    ["not base64url", "abc$def"],
    ["padding", `${encodeCursor({ timeMs: 5, id: 6 })}=`],
    ["standard base64 alphabet", "+".repeat(23)],
    ["too short", encodeCursor({ timeMs: 5, id: 6 }).slice(0, 20)],
    ["too long", encodeCursor({ timeMs: 5, id: 6 }) + "AAAA"],
    ["huge", "A".repeat(10_000)],
    ["json", '{"timeMs":1,"id":2}'],
  ])("refuses garbage: %s", (_name, text) => {
    expect(() => decodeCursor(text)).toThrow(InvalidCursorError);
  });

  it("refuses a non-canonical spelling of a valid cursor", () => {
    const good = encodeCursor({ timeMs: 5, id: 6 });
    // the last character carries 2 unused bits; flipping them decodes to the same bytes
    const last = good[good.length - 1]!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const twin = good.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1]!;
    expect(Buffer.from(twin, "base64url")).toEqual(Buffer.from(good, "base64url"));
    expect(() => decodeCursor(twin)).toThrow(InvalidCursorError);
  });

  it("refuses unknown formats and out-of-range positions", () => {
    const raw = (format: number, t: bigint, id: bigint) => {
      const b = Buffer.alloc(17);
      b.writeUInt8(format, 0);
      b.writeBigUInt64BE(t, 1);
      b.writeBigUInt64BE(id, 9);
      return b.toString("base64url");
    };
    expect(() => decodeCursor(raw(2, 5n, 6n))).toThrow(/unknown format/);
    expect(() => decodeCursor(raw(1, 0n, 6n))).toThrow(/out of range/);
    expect(() => decodeCursor(raw(1, 5n, 0n))).toThrow(/out of range/);
    expect(() => decodeCursor(raw(1, 2n ** 53n, 6n))).toThrow(/out of range/);
    expect(() => decodeCursor(raw(1, 5n, 2n ** 63n))).toThrow(/out of range/);
    expect(decodeCursor(raw(1, 5n, 6n))).toEqual({ timeMs: 5, id: 6 });
  });

  it("refuses to encode positions no list can hold", () => {
    expect(() => encodeCursor({ timeMs: 0, id: 1 })).toThrow(RangeError);
    expect(() => encodeCursor({ timeMs: 1, id: 1.5 })).toThrow(RangeError);
    expect(() => encodeCursor({ timeMs: 2 ** 53, id: 1 })).toThrow(RangeError);
  });

  it("treats the empty string as the first page", () => {
    expect(decodeOptionalCursor("")).toBeUndefined();
    expect(decodeOptionalCursor(undefined)).toBeUndefined();
    expect(() => decodeOptionalCursor("x")).toThrow(InvalidCursorError);
  });

  it("orders newest first, ties by the higher id, numerically", () => {
    const items = [
      { timeMs: 10, id: 9 },
      { timeMs: 10, id: 10 },
      { timeMs: 11, id: 1 },
      { timeMs: 9, id: 100 },
    ];
    expect([...items].sort(compareNewestFirst)).toEqual([
      { timeMs: 11, id: 1 },
      { timeMs: 10, id: 10 },
      { timeMs: 10, id: 9 },
      { timeMs: 9, id: 100 },
    ]);
    expect(isAfterCursor({ timeMs: 10, id: 9 }, { timeMs: 10, id: 10 })).toBe(true);
    expect(isAfterCursor({ timeMs: 10, id: 10 }, { timeMs: 10, id: 10 })).toBe(false);
    expect(isAfterCursor({ timeMs: 11, id: 1 }, { timeMs: 10, id: 10 })).toBe(false);
  });
});
