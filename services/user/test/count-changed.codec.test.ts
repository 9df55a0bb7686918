import { countChangedBatchHeaders, countV1 } from "@rs/idl";
import type { KafkaMessage } from "@rs/kafka";
import { describe, expect, it } from "vitest";
import { decodeCountChanged, newestPerCounter } from "../src/adapters/kafka/count-changed.codec.js";

const message = (value: Buffer | null, offset = "5"): KafkaMessage =>
  ({ key: null, value, offset, timestamp: "0", attributes: 0, headers: {} }) as KafkaMessage;
const encode = (e: countV1.CountChanged) => Buffer.from(countV1.CountChanged.encode(e).finish());

describe("count.changed records", () => {
  it("decodes a CountChanged", () => {
    expect(decodeCountChanged(message(encode({ userId: 9, name: "follower", value: 4, version: 12 })))).toEqual({
      changes: [{ userId: 9, name: "follower", value: 4, version: 12 }],
      refused: [],
    });
  });

  it("decodes a CountChangedBatch, refusing its bad changes alone", () => {
    const changes = [
      { userId: 9, name: "follower", value: 4, version: 12 },
      { userId: 0, name: "follower", value: 1, version: 1 },
      { userId: 10, name: "following", value: 2, version: 3 },
    ];
    const m = { ...message(Buffer.from(countV1.CountChangedBatch.encode({ changes }).finish())), headers: countChangedBatchHeaders() };
    expect(decodeCountChanged(m)).toEqual({
      changes: [changes[0], changes[2]],
      refused: [{ offset: "5", reason: "change 1: user_id is not a positive id" }],
    });
  });

  it("reports records it cannot use instead of throwing", () => {
    const bad = [
      message(null),
      message(Buffer.from([0xff, 0xff, 0xff])),
      message(encode({ userId: 9, name: "likes", value: 1, version: 1 })),
      message(encode({ userId: 0, name: "follower", value: 1, version: 1 })),
      message(encode({ userId: 9, name: "follower", value: -1, version: 1 })),
      message(encode({ userId: 9, name: "follower", value: 1, version: 0 })),
    ];
    for (const m of bad) expect(decodeCountChanged(m)).toMatchObject({ changes: [], refused: [{ offset: "5" }] });
  });

  it("keeps only the newest version of each counter of each user", () => {
    const changes = newestPerCounter([
      { userId: 1, name: "follower", value: 5, version: 10 },
      { userId: 1, name: "follower", value: 4, version: 8 },
      { userId: 1, name: "following", value: 1, version: 3 },
      { userId: 2, name: "follower", value: 7, version: 2 },
      { userId: 1, name: "follower", value: 6, version: 11 },
    ]);
    expect(changes).toEqual([
      { userId: 1, name: "follower", value: 6, version: 11 },
      { userId: 1, name: "following", value: 1, version: 3 },
      { userId: 2, name: "follower", value: 7, version: 2 },
    ]);
  });
});
