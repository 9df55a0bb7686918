import { describe, expect, it } from "vitest";
import { HotCounters } from "../src/adapters/memory/hot-counters.js";
import type { CounterCachePort } from "../src/domain/count-reads.service.js";
import { counterKeyString, type CounterKey } from "../src/domain/counter-key.js";

/** A counter cache in memory that counts how often each counter was asked for (our port; Redis is tested elsewhere). */
function countingCache(values: Map<string, number>) {
  const asked = new Map<string, number>();
  const port: CounterCachePort = {
    getMany: (keys) => {
      for (const k of keys) asked.set(counterKeyString(k), (asked.get(counterKeyString(k)) ?? 0) + 1);
      return Promise.resolve(keys.map((k) => values.get(counterKeyString(k))));
    },
    fill: (entries) => {
      for (const e of entries) if (!values.has(counterKeyString(e.key))) values.set(counterKeyString(e.key), e.value);
      return Promise.resolve();
    },
  };
  return { port, asked: (k: CounterKey) => asked.get(counterKeyString(k)) ?? 0 };
}

const key = (id: number, name = "follower"): CounterKey => ({ entityType: "user", entityId: id, name });

describe("hot counters", () => {
  it("keep a counter asked for often for at most the TTL, and ask only for the rest of a call", async () => {
    let t = 1_000_000;
    const values = new Map([[counterKeyString(key(1)), 5]]);
    const inner = countingCache(values);
    const seen: [number, number][] = [];
    const hot = new HotCounters(inner.port, { size: 10, ttlMs: 500, minHits: 2, now: () => t }, { lookups: (h, m) => seen.push([h, m]) });

    for (let i = 0; i < 5; i++) expect(await hot.getMany([key(1), key(100 + i)])).toEqual([5, undefined]);
    expect(inner.asked(key(1))).toBe(2); // asked until hot, then kept
    expect(seen.reduce((n, [h]) => n + h, 0)).toBe(3);

    values.set(counterKeyString(key(1)), 6);
    expect(await hot.getMany([key(1)])).toEqual([5]); // within the bound
    t += 501;
    expect(await hot.getMany([key(1)])).toEqual([6]); // past it: the new value
  });

  it("keeps what was read from the store, and never a counter nobody could find", async () => {
    const t = 5_000_000;
    const inner = countingCache(new Map());
    const hot = new HotCounters(inner.port, { size: 10, ttlMs: 500, minHits: 1, now: () => t });
    expect(await hot.getMany([key(7)])).toEqual([undefined]);
    expect(await hot.getMany([key(7)])).toEqual([undefined]);
    expect(inner.asked(key(7))).toBe(2);
    await hot.fill([{ key: key(7), value: 42 }]);
    expect(await hot.getMany([key(7)])).toEqual([42]);
    expect(inner.asked(key(7))).toBe(2);
  });
});
