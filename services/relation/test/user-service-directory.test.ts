import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it, vi } from "vitest";
import type { ServiceClient } from "@rs/grpc";
import type { userV1 } from "@rs/idl";
import { REFRESH_AT_TTL_SHARE, REFRESH_GATHER_MS, UserServiceDirectory } from "../src/adapters/user/user-service-directory.js";

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
    batchGetUsers: ({ userIds, skipProcessCache }: { userIds: number[]; skipProcessCache: boolean }) => {
      // the directory keeps hot profiles itself: the user service's own copies would add their age to its bound
      if (!skipProcessCache) return Promise.reject(new Error("asked without skipProcessCache"));
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

  it("reloads the kept profiles in use before their TTL ends, in the background and in calls of up to 100, so no page waits", async () => {
    let t = 1_000_000;
    let followers = 0;
    let failing = false;
    const calls: number[][] = [];
    let release: () => void = () => undefined;
    let hold = false;
    const client = {
      batchGetUsers: async ({ userIds }: { userIds: number[] }) => {
        if (failing) throw grpcError(status.UNAVAILABLE);
        calls.push([...userIds]);
        const answer = { users: userIds.map((id) => ({ id, name: `u${id}`, followCount: 0, followerCount: followers })) };
        if (hold) await new Promise<void>((r) => (release = r));
        return answer;
      },
    } as unknown as ServiceClient<userV1.UserServiceClient>;
    const errors: unknown[] = [];
    const ttlMs = 1_000;
    const d = new UserServiceDirectory(client, {
      existsCacheSize: 10,
      existsCacheTtlMs: 1_000,
      hotProfiles: { size: 1_000, ttlMs, minHits: 2, now: () => t },
      onRefreshError: (err) => errors.push(err),
    });
    const ids = Array.from({ length: 150 }, (_, i) => 1 + i);
    const pages = async () => {
      const all = new Map<number, number>();
      for (let from = 0; from < 150; from += 20) for (const [id, p] of await d.profiles(ids.slice(from, from + 20))) all.set(id, p.followerCount);
      return all;
    };
    // asked for twice (hot), then loaded once more: all 150 kept
    await pages();
    await pages();
    const loads = calls.length;
    await pages(); // looked up since their load: they will be reloaded
    expect(d.profileCacheStats.misses).toBe(300);

    // at 70 % of the TTL they are due; gathered for REFRESH_GATHER_MS, then reloaded off the pages' path, 100 per call
    followers = 5;
    hold = true;
    t += ttlMs * REFRESH_AT_TTL_SHARE;
    await pages();
    expect(calls.length).toBe(loads); // gathering
    t += REFRESH_GATHER_MS;
    const served = await pages(); // the old values while the reload is under way: no page waits for it
    expect([...served.values()].every((n) => n === 0)).toBe(true);
    expect(calls.slice(loads)).toEqual([ids.slice(0, 100)]);
    hold = false;
    release();
    await vi.waitFor(() => expect(calls.slice(loads)).toEqual([ids.slice(0, 100), ids.slice(100, 150)]));
    await vi.waitFor(async () => expect([...(await pages()).values()].every((n) => n === 5)).toBe(true));
    // the TTL passed for the first loads, not for the reloaded ones: nothing missed, nothing asked for by a page
    t += ttlMs * (1 - REFRESH_AT_TTL_SHARE);
    expect([...(await pages()).values()].every((n) => n === 5)).toBe(true);
    expect(d.profileCacheStats.misses).toBe(300);
    expect(calls.length).toBe(loads + 2);

    // a failed reload is reported, and the profiles it was for leave at their TTL, then load as usual
    failing = true;
    // the reloads arrived at 70 % + REFRESH_GATHER_MS of the first TTL; it is now 100 % of it
    t += ttlMs * REFRESH_AT_TTL_SHARE - ttlMs * (1 - REFRESH_AT_TTL_SHARE) + REFRESH_GATHER_MS;
    await pages();
    await vi.waitFor(() => expect(errors).toHaveLength(2));
    t += ttlMs;
    await expect(d.profiles([1])).rejects.toMatchObject({ code: status.UNAVAILABLE });
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

/** Change notices as a test drives them (the Redis subscriber is tested against Redis in profile-change-notices.int.test.ts). */
function notices() {
  let changed: (id: number) => void = () => undefined;
  let reset: () => void = () => undefined;
  const n = {
    live: true,
    onChange: (fn: (id: number) => void) => void (changed = fn),
    onReset: (fn: () => void) => void (reset = fn),
    change: (id: number) => changed(id),
    reset: () => reset(),
  };
  return n;
}

describe("hot profiles with change notices", () => {
  const hotOptions = (changes: ReturnType<typeof notices>) => ({
    existsCacheSize: 10,
    existsCacheTtlMs: 1_000,
    hotProfiles: { size: 100, ttlMs: 60_000, minHits: 1 },
    refreshAhead: false,
    changes,
  });

  it("a notice drops the kept profile, which the next page loads again", async () => {
    const svc = countingUserService();
    const changes = notices();
    const d = new UserServiceDirectory(svc.client, hotOptions(changes));
    await d.profiles([1]);
    await d.profiles([1]);
    expect(svc.asked(1)).toBe(1); // kept
    svc.setFollowers(3);
    changes.change(1);
    expect((await d.profiles([1])).get(1)?.followerCount).toBe(3);
    expect((await d.profiles([1])).get(1)?.followerCount).toBe(3);
    expect(svc.asked(1)).toBe(2);
  });

  it("an answer to a load that started before a notice or a reset is served to its page, not kept", async () => {
    const changes = notices();
    let release: () => void = () => undefined;
    let hold = true;
    let loads = 0;
    const client = {
      batchGetUsers: async ({ userIds }: { userIds: number[] }) => {
        loads++;
        const answer = { users: userIds.map((id) => ({ id, name: `u${id}`, followCount: 0, followerCount: loads })) };
        if (hold) await new Promise<void>((r) => (release = r));
        return answer;
      },
    } as unknown as ServiceClient<userV1.UserServiceClient>;
    const d = new UserServiceDirectory(client, hotOptions(changes));
    for (const interrupt of [() => changes.change(1), () => changes.reset()]) {
      hold = true;
      const page = d.profiles([1]);
      await vi.waitFor(() => expect(loads).toBeGreaterThan(0));
      const before = loads;
      interrupt(); // the change lands while the load is under way
      release();
      expect((await page).get(1)?.followerCount).toBe(before);
      hold = false;
      await d.profiles([1]); // not kept: asked again
      expect(loads).toBe(before + 1);
      await d.profiles([1]); // this one was kept
      expect(loads).toBe(before + 1);
      loads = 0;
      changes.change(1);
    }
  });

  it("a reset drops everything kept, and nothing is kept while the notices are not live", async () => {
    const svc = countingUserService();
    const changes = notices();
    const d = new UserServiceDirectory(svc.client, hotOptions(changes));
    await d.profiles([1, 2]);
    await d.profiles([1, 2]);
    expect([svc.asked(1), svc.asked(2)]).toEqual([1, 1]);
    changes.live = false;
    changes.reset();
    await d.profiles([1, 2]);
    await d.profiles([1, 2]);
    expect([svc.asked(1), svc.asked(2)]).toEqual([3, 3]);
    changes.live = true;
    await d.profiles([1, 2]);
    await d.profiles([1, 2]);
    expect([svc.asked(1), svc.asked(2)]).toEqual([4, 4]);
  });
});
