/** The limits the .proto comments state are the ones the code enforces (idl/src/limits.ts). */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BATCH_GET_COUNTS_MAX, BATCH_GET_USERS_MAX, BATCH_IS_FOLLOWING_MAX, LIST_LIMIT_MAX, LIST_LIMIT_MIN, PROTO_ROOT, protoFiles } from "../src/index.js";

const proto = (name: keyof typeof protoFiles) => readFileSync(path.join(PROTO_ROOT, protoFiles[name]), "utf8");

describe("contract limits", () => {
  it("each proto comment names the limit the code reads", () => {
    expect(proto("user")).toMatch(new RegExp(`// Up to ${BATCH_GET_USERS_MAX} ids;.*\\n\\s*rpc BatchGetUsers\\(`));
    expect(proto("count")).toMatch(new RegExp(`// Up to ${BATCH_GET_COUNTS_MAX} users, .*\\n\\s*rpc BatchGetCounts\\(`));
    expect(proto("relation")).toMatch(new RegExp(`// Up to ${BATCH_IS_FOLLOWING_MAX} targets, .*\\n\\s*rpc BatchIsFollowing\\(`));
    const limitComments = proto("relation").match(/\/\/ (\d+)\.\.(\d+)\.\n\s*int32 limit = /g) ?? [];
    expect(limitComments).toHaveLength(4);
    for (const c of limitComments) expect(c).toContain(`// ${LIST_LIMIT_MIN}..${LIST_LIMIT_MAX}.`);
  });
});
