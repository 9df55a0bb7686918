import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { ServiceClient } from "@rs/grpc";
import type { userV1 } from "@rs/idl";
import { UserServiceDirectory } from "../src/adapters/user/user-service-directory.js";

const grpcError = (code: status) => Object.assign(new Error(status[code]), { code, details: status[code], metadata: new Metadata() });

function directoryFailingWith(code: status): UserServiceDirectory {
  const client = {
    userExists: () => Promise.reject(grpcError(code)),
    batchGetUsers: () => Promise.reject(grpcError(code)),
  } as unknown as ServiceClient<userV1.UserServiceClient>;
  return new UserServiceDirectory(client, { existsCacheSize: 10, existsCacheTtlMs: 1_000 });
}

describe("the user service seen from relation", () => {
  it("turns the user service not answering in time into UNAVAILABLE for relation's own caller", async () => {
    const d = directoryFailingWith(status.DEADLINE_EXCEEDED);
    await expect(d.exists(1)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(d.profiles([1, 2])).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });

  it("passes other answers on as they are", async () => {
    await expect(directoryFailingWith(status.INVALID_ARGUMENT).profiles([1])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
