/**
 * Redis at its maxmemory with nothing left to evict refuses writes with
 * "OOM command not allowed" (docs/reliability.md, "Bounds"): an outage of a
 * store, answered UNAVAILABLE (retry later), not INTERNAL.
 */
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { isStatusError } from "@rs/errors";
import { classifyStoreError } from "../src/grpc/infra-errors.js";

describe("Redis OOM replies", () => {
  it("are UNAVAILABLE for the user service", () => {
    const mapped = classifyStoreError(Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: "ReplyError" }));
    expect(isStatusError(mapped) && mapped.code).toBe(status.UNAVAILABLE);
  });
});
