import { describe, expect, it } from "vitest";
import { z } from "zod";
import { cursorSchema, intSchema, passwordSchema, userIdSchema, usernameSchema } from "../src/http/params.js";
import { describeIssues, parseInput } from "../src/http/validate.js";
import { douyinParams, relationActionParams } from "../src/douyin/douyin-params.js";
import type { Request } from "express";

describe("user ids", () => {
  const id = userIdSchema();
  it.each([
    ["1", 1],
    [1, 1],
    ["9007199254740991", Number.MAX_SAFE_INTEGER],
    [232185560793088, 232185560793088],
  ])("accepts %j", (input, out) => {
    expect(id.parse(input)).toBe(out);
  });

  it.each([
    ["0"],
    [0],
    ["-1"],
    [-5],
    ["01"],
    ["1e3"],
    ["0x10"],
    [" 1"],
    ["1 "],
    ["1.0"],
    [1.5],
    ["9007199254740992"],
    [9007199254740992],
    ["12345678901234567"],
    [""],
    ["abc"],
    [null],
    [true],
    [[1]],
    [{}],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
  ])("refuses %j", (input) => {
    expect(id.safeParse(input).success).toBe(false);
  });
});

describe("bounded integers", () => {
  const page = intSchema(1, 100, "page size");
  it("accepts the bounds and decimal text", () => {
    expect(page.parse("1")).toBe(1);
    expect(page.parse(100)).toBe(100);
  });
  it.each([["0"], ["101"], ["-0"], ["1.5"], ["+5"], ["5abc"], [""], [[]]])("refuses %j", (input) => {
    expect(page.safeParse(input).success).toBe(false);
  });
});

describe("cursors, names and passwords", () => {
  it("cursor: base64url only, bounded", () => {
    expect(cursorSchema().parse("AQAAAZqL")).toBe("AQAAAZqL");
    expect(cursorSchema().parse("")).toBe("");
    for (const bad of ["a b", "a+b", "a/b", "x".repeat(129), "é"]) expect(cursorSchema().safeParse(bad).success).toBe(false);
  });

  it("username: 1-32 code points, no control characters", () => {
    expect(usernameSchema().safeParse("a").success).toBe(true);
    expect(usernameSchema().safeParse("😀".repeat(32)).success).toBe(true); // 64 UTF-16 units, 32 characters
    for (const bad of ["", "x".repeat(33), "a\u0000b", "tab\there", "\u007f"]) expect(usernameSchema().safeParse(bad).success).toBe(false);
  });

  it("password: 6-32 characters", () => {
    expect(passwordSchema().safeParse("123456").success).toBe(true);
    for (const bad of ["12345", "x".repeat(33), 123456]) expect(passwordSchema().safeParse(bad).success).toBe(false);
  });
});

describe("validation errors", () => {
  it("name each field and never echo the value", () => {
    const schema = z.strictObject({ userId: userIdSchema(), limit: intSchema(1, 100, "limit") });
    const secret = "hunter2-SECRET";
    let message = "";
    try {
      parseInput(schema, { userId: secret, limit: "500", junk: 1 });
    } catch (err) {
      message = (err as Error).message;
      expect((err as { code: number }).code).toBe(3); // INVALID_ARGUMENT
    }
    expect(message).toContain("userId: must be a positive integer id");
    expect(message).toContain("limit: must be an integer from 1 to 100");
    expect(message).toContain("unknown parameter: junk");
    expect(message).not.toContain(secret);
  });

  it("a missing field is 'is required'", () => {
    const r = z.object({ a: z.string() }).safeParse({});
    expect(r.success).toBe(false);
    if (!r.success) expect(describeIssues(r.error.issues)).toBe("a: is required");
  });
});

describe("/douyin parameters", () => {
  const req = (query: Record<string, unknown>, body?: unknown) => ({ query, body }) as unknown as Request;

  it("merges the query and the form", () => {
    expect({ ...douyinParams(req({ token: "t" }, { to_user_id: "5" })) }).toEqual({ token: "t", to_user_id: "5" });
  });

  it("accepts the same value twice, refuses two different ones", () => {
    expect(douyinParams(req({ a: "1" }, { a: 1 })).a).toBe(1);
    expect(() => douyinParams(req({ a: "1" }, { a: "2" }))).toThrow(/a: given twice/);
  });

  it("keeps __proto__ as data", () => {
    const p = douyinParams(req({}, JSON.parse('{"__proto__": {"polluted": true}, "x": "1"}')));
    expect(Object.getPrototypeOf(p)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("action_type is 1 or 2 only", () => {
    expect(relationActionParams.parse({ to_user_id: "3", action_type: "1" }).action_type).toBe(1);
    expect(relationActionParams.parse({ to_user_id: 3, action_type: 2 }).action_type).toBe(2);
    for (const bad of ["0", "3", "1.0", "", "follow", 1.5]) expect(relationActionParams.safeParse({ to_user_id: "3", action_type: bad }).success).toBe(false);
  });
});
