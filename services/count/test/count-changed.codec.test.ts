/** Decoding count.changed records and keeping the newest version of each counter. */
import { describe, expect, it } from "vitest";
import { countV1 } from "@rs/idl";
import { decodeCountChanged } from "../src/adapters/kafka/count-changed.codec.js";
import { newestPerCounter } from "../src/domain/count-changes.service.js";
import { assertCounterKey } from "../src/domain/counter-key.js";

const record = (c: countV1.CountChanged, offset = "0") => ({ value: Buffer.from(countV1.CountChanged.encode(c).finish()), offset });

describe("count.changed codec", () => {
  it("decodes a user's count and refuses what cannot be one", () => {
    expect(decodeCountChanged(record({ userId: 42, name: "follower", value: 3, version: 99 }))).toEqual({
      ok: true,
      change: { key: { entityType: "user", entityId: 42, name: "follower" }, value: 3, version: 99 },
    });
    expect(decodeCountChanged({ value: Buffer.from([0xff, 0xff]), offset: "5" })).toMatchObject({ ok: false, offset: "5" });
    expect(decodeCountChanged({ value: null, offset: "6" })).toMatchObject({ ok: false });
    expect(decodeCountChanged(record({ userId: 0, name: "follower", value: 3, version: 99 }))).toMatchObject({ ok: false });
    expect(decodeCountChanged(record({ userId: 1, name: "Bad Name", value: 3, version: 99 }))).toMatchObject({ ok: false });
    expect(decodeCountChanged(record({ userId: 1, name: "follower", value: 3, version: 0 }))).toMatchObject({ ok: false });
    // a count is never negative: refused (with its offset), as the user-consumer refuses it
    expect(decodeCountChanged(record({ userId: 1, name: "follower", value: -1, version: 9 }, "7"))).toMatchObject({
      ok: false,
      offset: "7",
      reason: /not a count/,
    });
  });

  it("keeps the newest version of each counter of a batch", () => {
    const key = (name: string) => ({ entityType: "user", entityId: 1, name });
    const newest = newestPerCounter([
      { key: key("following"), value: 1, version: 5 },
      { key: key("following"), value: 2, version: 7 },
      { key: key("following"), value: 9, version: 6 },
      { key: key("follower"), value: 4, version: 1 },
    ]);
    expect(newest).toEqual([
      { key: key("following"), value: 2, version: 7 },
      { key: key("follower"), value: 4, version: 1 },
    ]);
  });

  it("validates counter keys", () => {
    expect(() => assertCounterKey({ entityType: "post", entityId: 3, name: "likes" })).not.toThrow();
    expect(() => assertCounterKey({ entityType: "post", entityId: 2 ** 53, name: "likes" })).toThrow(/entity_id/);
    expect(() => assertCounterKey({ entityType: "post_", entityId: 3, name: "li-kes" })).toThrow(/name/);
    expect(() => assertCounterKey(undefined)).toThrow(/required/);
  });
});
