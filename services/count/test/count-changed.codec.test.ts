/** Decoding count.changed records and keeping the newest version of each counter. */
import { describe, expect, it } from "vitest";
import { countChangedBatchHeaders, countV1 } from "@rs/idl";
import { decodeCountChanged } from "../src/adapters/kafka/count-changed.codec.js";
import { newestPerCounter } from "../src/domain/count-changes.service.js";
import { assertCounterKey } from "../src/domain/counter-key.js";

const record = (c: countV1.CountChanged, offset = "0") => ({ value: Buffer.from(countV1.CountChanged.encode(c).finish()), offset });

describe("count.changed codec", () => {
  it("decodes a user's count and refuses what cannot be one", () => {
    expect(decodeCountChanged(record({ userId: 42, name: "follower", value: 3, version: 99 }))).toEqual({
      changes: [{ key: { entityType: "user", entityId: 42, name: "follower" }, value: 3, version: 99 }],
      refused: [],
    });
    const refused = (m: { value: Buffer | null; offset: string }) => decodeCountChanged(m);
    expect(refused({ value: Buffer.from([0xff, 0xff]), offset: "5" })).toMatchObject({ changes: [], refused: [{ offset: "5" }] });
    expect(refused({ value: null, offset: "6" })).toMatchObject({ changes: [], refused: [{ offset: "6" }] });
    expect(refused(record({ userId: 0, name: "follower", value: 3, version: 99 }))).toMatchObject({ changes: [], refused: [{}] });
    expect(refused(record({ userId: 1, name: "Bad Name", value: 3, version: 99 }))).toMatchObject({ changes: [], refused: [{}] });
    expect(refused(record({ userId: 1, name: "follower", value: 3, version: 0 }))).toMatchObject({ changes: [], refused: [{}] });
    // a count is never negative: refused (with its offset), as the user-consumer refuses it
    expect(refused(record({ userId: 1, name: "follower", value: -1, version: 9 }, "7"))).toMatchObject({
      changes: [],
      refused: [{ offset: "7", reason: expect.stringMatching(/not a count/) }],
    });
  });

  it("decodes a batch record into the counter changes of its users", () => {
    const changes = [
      { userId: 42, name: "follower", value: 3, version: 99 },
      { userId: 7, name: "likes", value: 1, version: 1 },
      { userId: 8, name: "following", value: 0, version: 4 },
    ];
    const m = { value: Buffer.from(countV1.CountChangedBatch.encode({ changes }).finish()), offset: "9", headers: countChangedBatchHeaders() };
    expect(decodeCountChanged(m)).toEqual({
      changes: [
        { key: { entityType: "user", entityId: 42, name: "follower" }, value: 3, version: 99 },
        { key: { entityType: "user", entityId: 8, name: "following" }, value: 0, version: 4 },
      ],
      refused: [{ offset: "9", reason: 'change 1: unknown counter "likes"' }],
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
