import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { relationV1 } from "@rs/idl";
import { assertDecoded, withSafeDecoding } from "../src/server/safe-decoding.js";
import { codeOf } from "../../../test/support/status-code.js";

describe("safe decoding", () => {
  const def = withSafeDecoding(relationV1.RelationServiceService);

  it("decodes a good request as before", () => {
    const bytes = relationV1.FollowRequest.encode({ fromUserId: 5, toUserId: 6, source: 1 }).finish();
    const req = def.follow.requestDeserialize(Buffer.from(bytes));
    expect(req).toEqual({ fromUserId: 5, toUserId: 6, source: 1 });
    expect(() => assertDecoded(req)).not.toThrow();
  });

  it("turns an int64 beyond 2^53 into INVALID_ARGUMENT instead of a throwing deserializer", () => {
    // field 1 varint 2^63 - 1
    const bytes = Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(() => relationV1.RelationServiceService.follow.requestDeserialize(bytes)).toThrow();
    const req = def.follow.requestDeserialize(bytes);
    expect(codeOf(() => assertDecoded(req))).toBe(status.INVALID_ARGUMENT);
    expect(() => assertDecoded(req)).toThrow(/^malformed request: /);
  });

  it("turns garbage bytes into INVALID_ARGUMENT", () => {
    const req = def.listFans.requestDeserialize(Buffer.from([0x12, 0xff]));
    expect(codeOf(() => assertDecoded(req))).toBe(status.INVALID_ARGUMENT);
  });

  it("leaves the other fields of each method alone", () => {
    expect(Object.keys(def)).toEqual(Object.keys(relationV1.RelationServiceService));
    expect(def.follow.path).toBe(relationV1.RelationServiceService.follow.path);
    expect(def.follow.responseSerialize).toBe(relationV1.RelationServiceService.follow.responseSerialize);
  });
});
