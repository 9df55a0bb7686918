/** The one count.changed codec: what the persister writes, both consumers read back; what breaks the contract is refused with a reason. */
import { describe, expect, it } from "vitest";
import {
  COUNT_CHANGED_BATCH_SCHEMA,
  COUNT_CHANGED_SCHEMA_HEADER,
  MAX_CHANGES_PER_RECORD,
  countChangedBatchHeaders,
  countV1,
  decodeCountChanged,
  decodeCountChangedMessage,
  decodeCountChangedRecord,
  encodeCountChanged,
  encodeCountChangedBatch,
  type CountChangedRecord,
} from "../src/index.js";

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

describe("count.changed batch records", () => {
  const changes: CountChangedRecord[] = [
    { userId: 42, name: "follower", value: 0, version: 7 },
    { userId: 43, name: "following", value: 5_000, version: 2 ** 52 },
    { userId: 42, name: "follower", value: 1, version: 8 },
  ];

  it("round-trip many changes in one record, read by the header that marks it", () => {
    const value = encodeCountChangedBatch(changes);
    expect(decodeCountChangedRecord(value, COUNT_CHANGED_BATCH_SCHEMA)).toEqual({ changes, refused: [] });
    // as a consumer gets it: the header's value as a Buffer
    const headers = { [COUNT_CHANGED_SCHEMA_HEADER]: Buffer.from(countChangedBatchHeaders()[COUNT_CHANGED_SCHEMA_HEADER]!) };
    expect(decodeCountChangedMessage({ value, headers })).toEqual({ changes, refused: [] });
  });

  it("read a record without the header as one change (the form before batches)", () => {
    const value = encodeCountChanged(changes[0]!);
    expect(decodeCountChangedMessage({ value, headers: {} })).toEqual({ changes: [changes[0]], refused: [] });
    expect(decodeCountChangedMessage({ value })).toEqual({ changes: [changes[0]], refused: [] });
  });

  it("refuse a bad change alone and keep the others", () => {
    const value = Buffer.from(
      countV1.CountChangedBatch.encode({
        changes: [changes[0]!, { userId: 9, name: "likes", value: 1, version: 1 }, { userId: 9, name: "follower", value: -1, version: 3 }, changes[1]!],
      }).finish(),
    );
    expect(decodeCountChangedRecord(value, COUNT_CHANGED_BATCH_SCHEMA)).toEqual({
      changes: [changes[0], changes[1]],
      refused: ['change 1: unknown counter "likes"', "change 2: value -1 is not a count (negative or too large)"],
    });
  });

  it("refuse a whole record that is not a batch, an empty one, or one of an unknown schema", () => {
    for (const value of [null, Buffer.alloc(0), Buffer.from([0xff, 0xff, 0xff]), Buffer.from(countV1.CountChangedBatch.encode({ changes: [] }).finish())]) {
      const d = decodeCountChangedRecord(value, COUNT_CHANGED_BATCH_SCHEMA);
      expect(d.changes).toEqual([]);
      expect(d.refused).toHaveLength(1);
    }
    expect(decodeCountChangedRecord(encodeCountChangedBatch(changes), "count.v2.Other")).toEqual({ changes: [], refused: ['unknown schema "count.v2.Other"'] });
  });

  it(`carry 1 to ${MAX_CHANGES_PER_RECORD} changes`, () => {
    expect(() => encodeCountChangedBatch([])).toThrow(RangeError);
    const most = Array.from({ length: MAX_CHANGES_PER_RECORD }, (_, i) => ({ ...changes[0]!, userId: i + 1 }));
    expect(decodeCountChangedRecord(encodeCountChangedBatch(most), COUNT_CHANGED_BATCH_SCHEMA).changes).toHaveLength(MAX_CHANGES_PER_RECORD);
    expect(() => encodeCountChangedBatch([...most, changes[0]!])).toThrow(RangeError);
  });
});
