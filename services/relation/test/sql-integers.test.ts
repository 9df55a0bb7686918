import { format } from "mysql2";
import { describe, expect, it } from "vitest";
import { sqlIntegerRows, sqlIntegers } from "../src/persister/sql-chunks.js";

const randomInteger = () => {
  const magnitude = [1, 1_000, 2 ** 31, Number.MAX_SAFE_INTEGER][Math.floor(Math.random() * 4)]!;
  return Math.floor(Math.random() * magnitude) * (Math.random() < 0.2 ? -1 : 1);
};

describe("sqlIntegers / sqlIntegerRows (the persister's unescaped integer lists)", () => {
  it("write what mysql2's `?` makes of the same arrays", () => {
    for (let n = 1; n <= 50; n++) {
      const values = Array.from({ length: n }, randomInteger);
      const rows = Array.from({ length: n }, () => Array.from({ length: 1 + (n % 7) }, randomInteger));
      expect(`IN (${sqlIntegers(values)})`).toBe(format("IN (?)", [values]));
      expect(`VALUES ${sqlIntegerRows(rows)}`).toBe(format("VALUES ?", [rows]));
    }
    expect(sqlIntegers([0, -0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])).toBe(
      format("?", [[0, -0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]]),
    );
  });

  it.each([NaN, Infinity, 1.5, 2 ** 53, -(2 ** 53), "1; DROP TABLE follows" as unknown as number, undefined as unknown as number])(
    "refuse %s, in a list and in a row",
    (bad) => {
      expect(() => sqlIntegers([1, bad])).toThrow(RangeError);
      expect(() =>
        sqlIntegerRows([
          [1, 2],
          [3, bad],
        ]),
      ).toThrow(RangeError);
    },
  );
});
