/**
 * ProfileService's read logic with in-memory stand-ins for the stores: how
 * many store reads a burst costs, what a batch sends, and how it degrades.
 */
import { status } from "@grpc/grpc-js";
import { createLogger } from "@rs/logger";
import { describe, expect, it } from "vitest";
import type { CachedProfile, ExistenceFilter, ProfileCache, UserStore } from "../src/domain/ports.js";
import type { StoredProfile } from "../src/domain/profile.js";
import { ProfileService } from "../src/domain/profile.service.js";

const logger = createLogger("profiles-test", "silent");
const stored = (id: number): StoredProfile => ({
  revision: 0,
  profile: { id, name: `u${id}`, avatar: "", backgroundImage: "", signature: "", followCount: 0, followerCount: 0 },
});

function fakes(existing: number[], opts: { cacheDown?: boolean; bloom?: boolean[] | "untrusted" } = {}) {
  const rows = new Map(existing.map((id) => [id, stored(id)]));
  const reads: number[][] = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  const store = {
    async getProfiles(ids: readonly number[]) {
      reads.push([...ids]);
      await gate;
      return new Map(ids.filter((id) => rows.has(id)).map((id) => [id, rows.get(id)!]));
    },
  } as unknown as UserStore;
  const cached = new Map<number, CachedProfile>();
  const cache: ProfileCache = {
    async getMany(ids) {
      if (opts.cacheDown) throw new Error("Stream isn't writeable");
      return new Map(ids.flatMap((id) => (cached.has(id) ? [[id, cached.get(id)!] as const] : [])));
    },
    async fill(found, missing) {
      if (opts.cacheDown) throw new Error("Stream isn't writeable");
      for (const s of found) cached.set(s.profile.id, { kind: "profile", stored: s });
      for (const id of missing) cached.set(id, { kind: "missing" });
    },
    async invalidate(id) {
      cached.delete(id);
    },
  };
  const existence: ExistenceFilter = {
    mightExist: async (ids) => (opts.bloom === "untrusted" ? undefined : (opts.bloom ?? ids.map(() => true))),
    add: async () => undefined,
  };
  return {
    service: new ProfileService({ store, cache, existence, logger }),
    reads,
    cached,
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release: () => release(),
  };
}

describe("ProfileService", () => {
  it("collapses a burst of reads of one uncached id into one store read", async () => {
    const f = fakes([5]);
    f.hold();
    const burst = Array.from({ length: 50 }, () => f.service.getUser(5));
    f.release();
    const got = await Promise.all(burst);
    expect(got.every((p) => p.id === 5)).toBe(true);
    expect(f.reads).toEqual([[5]]);
  });

  it("reads a batch's misses together, joining ids another call is already loading", async () => {
    const f = fakes([1, 2, 3, 4]);
    f.hold();
    const single = f.service.getUser(2);
    const batch = f.service.batchGetUsers([4, 2, 9, 1, 4]);
    f.release();
    await single;
    expect(await batch).toEqual({ users: [stored(4).profile, stored(2).profile, stored(1).profile, stored(4).profile], missingUserIds: [9] });
    expect(f.reads).toEqual([[2], [4, 9, 1]]);
    await new Promise((r) => setImmediate(r));
    // Written back: the next batch is answered from the cache alone, the unknown id included.
    await f.service.batchGetUsers([1, 9]);
    expect(f.reads).toHaveLength(2);
    expect(f.cached.get(9)).toEqual({ kind: "missing" });
  });

  it("serves from the store while the cache is down", async () => {
    const f = fakes([3], { cacheDown: true });
    expect((await f.service.getUser(3)).id).toBe(3);
    await expect(f.service.getUser(4)).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it("takes the bloom filter's 'no' as final and asks the store when the filter is not trusted", async () => {
    const absent = fakes([8], { bloom: [false] });
    expect(await absent.service.userExists(8)).toBe(false); // a 'no' is never checked further
    expect(absent.reads).toEqual([]);
    const untrusted = fakes([8], { bloom: "untrusted" });
    expect(await untrusted.service.userExists(8)).toBe(true);
    expect(untrusted.reads).toEqual([[8]]);
  });
});
