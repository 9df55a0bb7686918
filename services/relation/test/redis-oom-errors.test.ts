/**
 * Redis at its maxmemory with nothing left to evict refuses writes with
 * "OOM command not allowed" (docs/reliability.md, "Bounds"): an outage of a
 * store, answered UNAVAILABLE (retry later), not INTERNAL.
 */
import { describe, expect, it } from "vitest";
import { isDependencyOutage } from "../src/grpc/dependency-errors.js";

describe("Redis OOM replies", () => {
  it("are a dependency outage for the relation service", () => {
    expect(isDependencyOutage(Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: "ReplyError" }))).toBe(true);
  });
});
