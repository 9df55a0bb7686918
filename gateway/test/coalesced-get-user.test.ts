import { Code as status } from "@rs/errors";
import { describe, expect, it } from "vitest";
import type { userV1 } from "@rs/idl";
import { coalescedGetUser } from "../src/clients/coalesced-get-user.js";

/** A user service that knows ids below 100 and records every call. */
function fakeUserService() {
  const calls: string[] = [];
  const user = (id: number) => ({ id, name: `u${id}` }) as userV1.User;
  return {
    calls,
    client: {
      getUser: (req: userV1.GetUserRequest) => {
        calls.push(`get ${req.userId}`);
        return req.userId > 0 && req.userId < 100
          ? Promise.resolve({ user: user(req.userId) })
          : Promise.reject(Object.assign(new Error("refused"), { code: status.INVALID_ARGUMENT }));
      },
      batchGetUsers: (req: userV1.BatchGetUsersRequest) => {
        calls.push(`batch ${[...req.userIds].sort((a, b) => a - b).join(",")}`);
        return Promise.resolve({ users: req.userIds.filter((id) => id < 100).map(user), missingUserIds: req.userIds.filter((id) => id >= 100) });
      },
    },
  };
}

describe("coalescedGetUser", () => {
  it("GetUser calls of one turn are one BatchGetUsers; each gets its own user, an unknown one NOT_FOUND as GetUser answers it", async () => {
    const svc = fakeUserService();
    const getUser = coalescedGetUser(svc.client);
    const answers = await Promise.allSettled([getUser({ userId: 1 }), getUser({ userId: 2 }), getUser({ userId: 1 }), getUser({ userId: 500 })]);
    expect(svc.calls).toEqual(["batch 1,2,500"]);
    expect(svc.calls.filter((c) => c.startsWith("batch"))).toHaveLength(1);
    expect(answers.slice(0, 3).map((a) => (a.status === "fulfilled" ? a.value.user?.id : a.reason))).toEqual([1, 2, 1]);
    expect(answers[3]).toMatchObject({ status: "rejected", reason: { code: status.NOT_FOUND, message: "user 500 not found" } });
  });

  it("an id GetUser would refuse, or a call with options of its own, is a GetUser of its own", async () => {
    const svc = fakeUserService();
    const getUser = coalescedGetUser(svc.client);
    const [bad, own, shared] = await Promise.allSettled([getUser({ userId: -1 }), getUser({ userId: 3 }, { deadlineMs: 50 }), getUser({ userId: 4 })]);
    expect(bad).toMatchObject({ status: "rejected", reason: { code: status.INVALID_ARGUMENT } });
    expect(own).toMatchObject({ status: "fulfilled", value: { user: { id: 3 } } });
    expect(shared).toMatchObject({ status: "fulfilled", value: { user: { id: 4 } } });
    expect(svc.calls).toEqual(["get -1", "get 3", "batch 4"]);
  });
});
