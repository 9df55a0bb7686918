import { describe, expect, it } from "vitest";
import { HotProfiles } from "../src/adapters/memory/hot-profiles.js";
import type { CachedProfile, ProfileCache } from "../src/domain/ports.js";
import type { StoredProfile } from "../src/domain/profile.js";

const stored = (id: number, revision: number, name = `u${id}`): StoredProfile => ({
  profile: { id, name, avatar: "", backgroundImage: "", signature: "", followCount: 0, followerCount: revision } as StoredProfile["profile"],
  revision,
});

/** The profile cache port in memory, counting how often each id was asked for (Redis is tested elsewhere). */
function countingCache() {
  const entries = new Map<number, CachedProfile>();
  const asked = new Map<number, number>();
  const port: ProfileCache = {
    getMany: (ids) => {
      const out = new Map<number, CachedProfile>();
      for (const id of ids) {
        asked.set(id, (asked.get(id) ?? 0) + 1);
        const e = entries.get(id);
        if (e) out.set(id, e);
      }
      return Promise.resolve(out);
    },
    fill: (found, missing) => {
      for (const s of found) entries.set(s.profile.id, { kind: "profile", stored: s });
      for (const id of missing) if (!entries.has(id)) entries.set(id, { kind: "missing" });
      return Promise.resolve();
    },
    invalidate: (id) => {
      entries.delete(id);
      return Promise.resolve();
    },
  };
  return { port, entries, asked: (id: number) => asked.get(id) ?? 0 };
}

const revisionOf = (c: CachedProfile | undefined) => (c?.kind === "profile" ? c.stored.revision : undefined);

describe("hot profiles", () => {
  it("keep a profile asked for often for at most the TTL; never keep 'no such user'", async () => {
    let t = 1_000_000;
    const inner = countingCache();
    await inner.port.fill([stored(1, 1)], [2]);
    const hot = new HotProfiles(inner.port, { size: 10, ttlMs: 500, minHits: 2, now: () => t });
    for (let i = 0; i < 5; i++) await hot.getMany([1, 2]);
    expect(inner.asked(1)).toBe(2);
    expect(inner.asked(2)).toBe(5);

    inner.entries.set(1, { kind: "profile", stored: stored(1, 2) }); // changed by another process
    expect(revisionOf((await hot.getMany([1])).get(1))).toBe(1);
    t += 501;
    expect(revisionOf((await hot.getMany([1])).get(1))).toBe(2);
  });

  it("a change made here drops the kept profile, and an older read finishing after it is not kept", async () => {
    const t = 2_000_000;
    const inner = countingCache();
    await inner.port.fill([stored(1, 5)], []);
    const hot = new HotProfiles(inner.port, { size: 10, ttlMs: 500, minHits: 1, now: () => t });
    await hot.getMany([1]);
    await hot.invalidate(1, 6);
    // a read that started before the change fills revision 5 after it
    await hot.fill([stored(1, 5)], []);
    await hot.getMany([1]);
    expect(inner.asked(1)).toBe(2); // not served from memory: asked again
    await hot.fill([stored(1, 6)], []);
    expect(revisionOf((await hot.getMany([1])).get(1))).toBe(6);
    expect(inner.asked(1)).toBe(2); // revision 6 is kept
  });

  it("bounds what it remembers of recent changes", async () => {
    const t = 3_000_000;
    const inner = countingCache();
    const hot = new HotProfiles(inner.port, { size: 3, ttlMs: 500, minHits: 1, now: () => t });
    for (let id = 1; id <= 100; id++) await hot.invalidate(id, 1);
    expect((hot as unknown as { floors: Map<number, unknown> }).floors.size).toBe(3);
  });
});
