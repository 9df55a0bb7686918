/** The one count.changed codec: what the persister writes, both consumers read back; what breaks the contract is refused with a reason. */
import { describe, expect, it } from "vitest";
import { countV1, decodeCountChanged, encodeCountChanged } from "../src/index.js";

const raw = (c: countV1.CountChanged) => Buffer.from(countV1.CountChanged.encode(c).finish());

describe("count.changed codec", () => {
  it("round-trips a count", () => {
    const change = { userId: 42, name: "follower", value: 0, version: 7 } as const;
    expect(decodeCountChanged(encodeCountChanged(change))).toEqual({ ok: true, change });
  });

  it("refuses a negative count instead of clamping it", () => {
    expect(decodeCountChanged(raw({ userId: 9, name: "follower", value: -1, version: 3 }))).toEqual({
      ok: false,
      reason: "value -1 is not a count (negative or too large)",
    });
  });

  it("refuses what is not a count.changed record", () => {
    const bad = [
      null,
      Buffer.alloc(0),
      Buffer.from([0xff, 0xff, 0xff]),
      raw({ userId: 0, name: "follower", value: 1, version: 1 }),
      raw({ userId: 9, name: "likes", value: 1, version: 1 }),
      raw({ userId: 9, name: "follower", value: 1, version: 0 }),
      raw({ userId: 2 ** 53, name: "follower", value: 1, version: 1 }),
    ];
    for (const value of bad) expect(decodeCountChanged(value)).toMatchObject({ ok: false, reason: expect.any(String) });
  });
});
