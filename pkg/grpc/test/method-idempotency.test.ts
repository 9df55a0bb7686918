/** What clients retry and which breaker class a method shares come from the protos' idempotency_level. */
import { describe, expect, it } from "vitest";
import { countV1, echoV1, relationV1, userV1 } from "@rs/idl";
import { methodIdempotency } from "../src/client/method-idempotency.js";

describe("method idempotency from the protos", () => {
  it("reads are retried and read-class; Logout is retried but a write; other writes are neither", () => {
    expect(methodIdempotency(userV1.UserServiceClient.service)).toEqual({
      idempotent: ["logout", "verifyToken", "getUser", "batchGetUsers", "userExists"],
      reads: ["verifyToken", "getUser", "batchGetUsers", "userExists"],
    });
    const relationReads = ["isFollowing", "batchIsFollowing", "isMutual", "listFollowing", "listFans", "listFriends", "listCommonFollowing"];
    expect(methodIdempotency(relationV1.RelationServiceClient.service)).toEqual({ idempotent: relationReads, reads: relationReads });
    const countReads = ["getCounts", "batchGetCounts", "getCounter", "batchGetCounters"];
    expect(methodIdempotency(countV1.CountServiceClient.service)).toEqual({ idempotent: countReads, reads: countReads });
  });

  it("a method without the option is neither", () => {
    expect(methodIdempotency(echoV1.EchoServiceClient.service)).toEqual({ idempotent: [], reads: [] });
  });
});
