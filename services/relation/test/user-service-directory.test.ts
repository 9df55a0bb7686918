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
  return new UserServiceDirectory(client, { existsCacheSize: 10, existsCacheTtlMs: 1_000, hotProfiles: { size: 0, ttlMs: 1, minHits: 1 } });
}

/** A user service that answers every id, counting how often each was asked for. */
function countingUserService() {
  const asked = new Map<number, number>();
  let followers = 0;
  let calls = 0;
  const client = {
    batchGetUsers: ({ userIds }: { userIds: number[] }) => {
      calls++;
      for (const id of userIds) asked.set(id, (asked.get(id) ?? 0) + 1);
      return Promise.resolve({ users: userIds.map((id) => ({ id, name: `u${id}`, followCount: 0, followerCount: followers })) });
    },
  } as unknown as ServiceClient<userV1.UserServiceClient>;
  return { client, asked: (id: number) => asked.get(id) ?? 0, calls: () => calls, setFollowers: (n: number) => void (followers = n) };
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

  it("keeps hot profiles for at most the TTL, asks only for the rest of a page, and forgets a user whose counts changed", async () => {
    let t = 1_000_000;
    const svc = countingUserService();
    const d = new UserServiceDirectory(svc.client, {
      existsCacheSize: 10,
      existsCacheTtlMs: 1_000,
      hotProfiles: { size: 100, ttlMs: 500, minHits: 2, now: () => t },
    });
    // user 1 is on every page, users 100+ on one page each
    for (let page = 0; page < 5; page++) await d.profiles([1, 100 + page]);
    expect(svc.asked(1)).toBe(2); // asked until hot (2 hits), then kept
    expect(svc.asked(100)).toBe(1);
    expect(d.profileCacheStats).toEqual({ hits: 3, misses: 7 });

    // the staleness bound: a changed profile is seen once the TTL has passed
    svc.setFollowers(7);
    expect((await d.profiles([1])).get(1)?.followerCount).toBe(0);
    t += 501;
    expect((await d.profiles([1])).get(1)?.followerCount).toBe(7);

    // a follow through this process drops the kept profile at once
    svc.setFollowers(8);
    d.forget([1]);
    expect((await d.profiles([1])).get(1)?.followerCount).toBe(8);
  });

  it("with the cache off, asks for every id every time", async () => {
    const svc = countingUserService();
    const d = new UserServiceDirectory(svc.client, {
      existsCacheSize: 10,
      existsCacheTtlMs: 1_000,
      hotProfiles: { size: 0, ttlMs: 500, minHits: 1 },
    });
    for (let i = 0; i < 3; i++) await d.profiles([1]);
    expect(svc.asked(1)).toBe(3);
  });
});

describe("profile loads shared by pages", () => {
  const options = { existsCacheSize: 10, existsCacheTtlMs: 1_000, hotProfiles: { size: 0, ttlMs: 500, minHits: 1 } };

  it("pages hydrated at the same time share one BatchGetUsers, and each gets its own profiles", async () => {
    const svc = countingUserService();
    const d = new UserServiceDirectory(svc.client, options);
    const pages = await Promise.all([d.profiles([1, 2]), d.profiles([3]), d.profiles([2, 4])]);
    expect(svc.calls()).toBe(1);
    expect(pages.map((p) => [...p.keys()])).toEqual([[1, 2], [3], [2, 4]]);
    expect(pages[2]!.get(4)?.name).toBe("u4");
  });

  it("with coalescing off, every page is a call of its own", async () => {
    const svc = countingUserService();
    const d = new UserServiceDirectory(svc.client, { ...options, coalesce: false });
    await Promise.all([d.profiles([1, 2]), d.profiles([2, 3])]);
    expect(svc.calls()).toBe(2);
    expect(svc.asked(2)).toBe(2);
  });
});
