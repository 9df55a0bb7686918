/**
 * The read use case with in-memory stand-ins for the store and the cache:
 * cache hits skip MySQL, misses are read once per call and per counter
 * (singleflight across calls), filled into the cache (absent = the authority's value, or 0), and an
 * unavailable cache degrades to MySQL instead of failing.
 */
import { describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { CountReadsService, type CounterCachePort, type CounterStore } from "../src/domain/count-reads.service.js";
import { counterKeyString, type CounterKey } from "../src/domain/counter-key.js";

const logger = createLogger("count-unit", "silent");
const k = (entityId: number, name = "following"): CounterKey => ({ entityType: "user", entityId, name });

function sut(stored: Record<string, number>, opts: { cacheDown?: boolean; delayMs?: number; authority?: Record<string, number> } = {}) {
  const reads: string[][] = [];
  const cached = new Map<string, number>();
  const store: CounterStore = {
    async read(keys) {
      reads.push(keys.map(counterKeyString));
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      return new Map(
        keys
          .map(counterKeyString)
          .filter((s) => s in stored)
          .map((s) => [s, stored[s]!]),
      );
    },
  };
  const cache: CounterCachePort = {
    async getMany(keys) {
      if (opts.cacheDown) throw new Error("redis down");
      return keys.map((key) => cached.get(counterKeyString(key)));
    },
    async fill(entries) {
      if (opts.cacheDown) throw new Error("redis down");
      for (const e of entries) if (!cached.has(counterKeyString(e.key))) cached.set(counterKeyString(e.key), e.value);
    },
  };
  const authorityAsked: string[][] = [];
  const authority: CounterStore | undefined = opts.authority && {
    async read(keys) {
      authorityAsked.push(keys.map(counterKeyString));
      return new Map(
        keys
          .map(counterKeyString)
          .filter((s) => s in opts.authority!)
          .map((s) => [s, opts.authority![s]!]),
      );
    },
  };
  return { service: new CountReadsService({ store, cache, logger, authority }), reads, cached, authorityAsked };
}

describe("CountReadsService", () => {
  it("reads misses once, caches them (absent as 0) and serves the next call from the cache", async () => {
    const { service, reads, cached } = sut({ [counterKeyString(k(1))]: 7 });
    expect(await service.getCounters([k(1), k(2)])).toEqual([7, 0]);
    expect(reads).toHaveLength(1);
    expect(cached.get(counterKeyString(k(2)))).toBe(0);
    expect(await service.getCounters([k(2), k(1)])).toEqual([0, 7]);
    expect(reads).toHaveLength(1);
  });

  it("lets concurrent calls for the same counter share one read", async () => {
    const { service, reads } = sut({ [counterKeyString(k(3))]: 9 }, { delayMs: 20 });
    const answers = await Promise.all([service.getCounters([k(3)]), service.getCounters([k(3), k(4)]), service.getCounters([k(3)])]);
    expect(answers).toEqual([[9], [9, 0], [9]]);
    expect(reads.flat().filter((s) => s === counterKeyString(k(3)))).toHaveLength(1);
  });

  it("answers from MySQL when the cache is unavailable", async () => {
    const { service } = sut({ [counterKeyString(k(5, "follower"))]: 4 }, { cacheDown: true });
    expect(await service.getUserCounts([5])).toEqual([{ userId: 5, followingCount: 0, followerCount: 4 }]);
  });

  it("reads a counter with no row from its authority (not 0), caches that, and asks it only for absent rows", async () => {
    const { service, cached, authorityAsked } = sut({ [counterKeyString(k(6))]: 2 }, { authority: { [counterKeyString(k(7))]: 5 } });
    expect(await service.getCounters([k(6), k(7), k(8)])).toEqual([2, 5, 0]);
    expect(authorityAsked).toEqual([[counterKeyString(k(7)), counterKeyString(k(8))]]);
    expect(cached.get(counterKeyString(k(7)))).toBe(5);
  });
});
