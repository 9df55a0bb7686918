import { describe, expect, it } from "vitest";
import { BCRYPT_MAX_PASSWORD_BYTES, hashPassword, needsRehash, verifyPassword } from "../src/index.js";

// The lowest cost bcrypt allows keeps the test fast; production uses BCRYPT_COST.
const COST = 4;

describe("passwords", () => {
  it("verify accepts the password and refuses any other", async () => {
    const h = await hashPassword("correct horse", COST);
    expect(h).toMatch(/^\$2b\$04\$/);
    expect(await verifyPassword("correct horse", h)).toBe(true);
    expect(await verifyPassword("correct horsf", h)).toBe(false);
    expect(await verifyPassword("", h)).toBe(false);
  });

  it("salts: the same password hashes differently", async () => {
    expect(await hashPassword("pw", COST)).not.toBe(await hashPassword("pw", COST));
  });

  it("a malformed stored hash is a plain no, not an exception", async () => {
    expect(await verifyPassword("pw", "not-a-bcrypt-hash")).toBe(false);
  });

  it("refuses passwords bcrypt would silently cut, and bad costs", async () => {
    const long = "a".repeat(BCRYPT_MAX_PASSWORD_BYTES + 1);
    await expect(hashPassword(long, COST)).rejects.toThrow(RangeError);
    await expect(hashPassword("pw", 3)).rejects.toThrow(RangeError);
    const h = await hashPassword("a".repeat(BCRYPT_MAX_PASSWORD_BYTES), COST);
    expect(await verifyPassword(long, h)).toBe(false);
  });

  it("needsRehash tells when the cost policy changed", async () => {
    const h = await hashPassword("pw", COST);
    expect(needsRehash(h, COST)).toBe(false);
    expect(needsRehash(h, COST + 1)).toBe(true);
    expect(needsRehash("garbage", COST)).toBe(true);
  });
});
