import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { BATCH_GET_USERS_MAX } from "@rs/idl";
import { checkPassword, checkUserId, checkUserIds, checkUsername } from "../src/domain/user-input.js";
import { codeOf } from "../../../test/support/status-code.js";

describe("user input rules", () => {
  it("takes usernames of 1-32 characters, counted as code points", () => {
    expect(checkUsername("a")).toBe("a");
    expect(checkUsername("x".repeat(32))).toBe("x".repeat(32));
    expect(checkUsername("😀".repeat(32))).toBe("😀".repeat(32)); // 64 UTF-16 units, 32 characters
    expect(checkUsername("张伟 Smith")).toBe("张伟 Smith");
    for (const bad of ["", "x".repeat(33), "😀".repeat(33)]) expect(codeOf(() => checkUsername(bad))).toBe(status.INVALID_ARGUMENT);
  });

  it("refuses invisible characters and white space at the ends of a username", () => {
    for (const bad of [" a", "a ", "a\nb", "a\u0000b", "a\u200bb", "\u202eevil", "a\ud800b"]) {
      expect(
        codeOf(() => checkUsername(bad)),
        JSON.stringify(bad),
      ).toBe(status.INVALID_ARGUMENT);
    }
  });

  it("takes passwords of 6-32 characters that bcrypt reads whole", () => {
    expect(checkPassword("123456")).toBe("123456");
    expect(checkPassword("p".repeat(32))).toBe("p".repeat(32));
    expect(checkPassword("ü".repeat(32))).toBe("ü".repeat(32)); // 64 bytes: fits
    for (const bad of ["12345", "p".repeat(33), "😀".repeat(19), "abc\ud800def"]) {
      expect(
        codeOf(() => checkPassword(bad)),
        bad,
      ).toBe(status.INVALID_ARGUMENT);
    }
  });

  it("takes positive ids below 2^53 and batches of up to 100", () => {
    expect(checkUserId(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) expect(codeOf(() => checkUserId(bad))).toBe(status.INVALID_ARGUMENT);
    const ids = Array.from({ length: BATCH_GET_USERS_MAX }, (_, i) => i + 1);
    expect(checkUserIds(ids)).toBe(ids);
    expect(codeOf(() => checkUserIds([...ids, 101]))).toBe(status.INVALID_ARGUMENT);
    expect(codeOf(() => checkUserIds([1, 2, 0]))).toBe(status.INVALID_ARGUMENT);
  });
});
