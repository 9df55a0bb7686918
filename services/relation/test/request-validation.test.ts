import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { cursor, listLimit, pageRequest, targetIds, userId, viewerId } from "../src/grpc/request-validation.js";
import { encodeCursor } from "../src/domain/cursor.js";
import { codeOf } from "../../../test/support/status-code.js";

describe("request validation", () => {
  it("accepts user ids 1..2^53-1 only", () => {
    expect(userId("x", 1)).toBe(1);
    expect(userId("x", Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, "1", undefined]) {
      expect(codeOf(() => userId("x", bad))).toBe(status.INVALID_ARGUMENT);
    }
  });

  it("names the field that is wrong", () => {
    expect(() => userId("to_user_id", 0)).toThrow(/to_user_id/);
  });

  it("takes 0 as 'no viewer'", () => {
    expect(viewerId("viewer_id", 0)).toBe(0);
    expect(viewerId("viewer_id", 8)).toBe(8);
    expect(codeOf(() => viewerId("viewer_id", -8))).toBe(status.INVALID_ARGUMENT);
  });

  it("limits pages to 1..100", () => {
    expect(listLimit(1)).toBe(1);
    expect(listLimit(100)).toBe(100);
    for (const bad of [0, 101, -1, 2.5]) expect(codeOf(() => listLimit(bad))).toBe(status.INVALID_ARGUMENT);
  });

  it("decodes cursors this service issued and refuses anything else", () => {
    expect(cursor("")).toBeUndefined();
    expect(cursor(encodeCursor({ timeMs: 10, id: 3 }))).toEqual({ timeMs: 10, id: 3 });
    for (const bad of ["x", "%%%", "A".repeat(200), `${encodeCursor({ timeMs: 10, id: 3 })}A`]) {
      expect(codeOf(() => cursor(bad))).toBe(status.INVALID_ARGUMENT);
    }
  });

  it("takes up to 1000 valid targets", () => {
    expect(targetIds([1, 2, 2])).toEqual([1, 2, 2]);
    expect(targetIds(Array.from({ length: 1000 }, (_, i) => i + 1))).toHaveLength(1000);
    expect(codeOf(() => targetIds(Array.from({ length: 1001 }, (_, i) => i + 1)))).toBe(status.INVALID_ARGUMENT);
    expect(() => targetIds([1, 0])).toThrow(/to_user_ids\[1\]/);
    // the first refused id is named, whatever follows it
    expect(() => targetIds([7, 2 ** 53, 0, "x"])).toThrow(/^to_user_ids\[1\] must be a positive integer below 2\^53$/);
  });

  it("checks every field of a page request", () => {
    expect(pageRequest({ userId: 4, cursor: "", limit: 10, viewerId: 0 })).toEqual({ user: 4, page: { cursor: undefined, limit: 10, viewer: 0 } });
    expect(codeOf(() => pageRequest({ userId: 4, cursor: "", limit: 10, viewerId: -2 }))).toBe(status.INVALID_ARGUMENT);
  });
});
