import { describe, expect, it } from "vitest";
import { boundByCallDeadline, callTimeLeftMs, withCallDeadline } from "../src/call-deadline.js";

describe("the call deadline", () => {
  it("is absent outside a call, and a configured bound stays as it is", () => {
    expect(callTimeLeftMs()).toBeUndefined();
    expect(boundByCallDeadline(5_000, 250)).toBe(5_000);
  });

  it("shortens a bound to end before the call's deadline, never below 1 ms", async () => {
    const now = Date.now();
    await withCallDeadline(now + 1_000, async () => {
      await Promise.resolve(); // survives async hops
      expect(callTimeLeftMs(now)).toBe(1_000);
      expect(boundByCallDeadline(5_000, 250)).toBeLessThanOrEqual(750);
      expect(boundByCallDeadline(100, 250)).toBe(100);
    });
    withCallDeadline(now - 10, () => expect(boundByCallDeadline(5_000, 250)).toBe(1));
  });

  it("treats an infinite deadline as none, and inner calls keep their own", () => {
    const now = Date.now();
    withCallDeadline(now + 1_000, () => {
      withCallDeadline(Number.POSITIVE_INFINITY, () => expect(callTimeLeftMs()).toBeUndefined());
      withCallDeadline(now + 200, () => expect(callTimeLeftMs(now)).toBe(200));
      expect(callTimeLeftMs(now)).toBe(1_000);
    });
  });
});
