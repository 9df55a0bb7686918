import { describe, expect, it } from "vitest";
import { HotKeyCache, hotKeyCache } from "../src/index.js";

function clock(start = 5_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** A loader that counts its calls per key. */
function loader() {
  const calls = new Map<string, number>();
  const load = async (key: string) => {
    calls.set(key, (calls.get(key) ?? 0) + 1);
    return { key, n: calls.get(key)! };
  };
  return { load, calls: (key: string) => calls.get(key) ?? 0 };
}

const opts = (now: () => number) => ({ maxEntries: 2, ttlMs: 500, windowMs: 1_000, buckets: 10, minHits: 3, now });

describe("HotKeyCache", () => {
  it("a cold key always goes to load", async () => {
    const c = clock();
    const cache = new HotKeyCache<{ key: string; n: number }>(opts(c.now));
    const l = loader();
    await cache.get("cold", l.load);
    await cache.get("cold", l.load);
    expect(l.calls("cold")).toBe(2);
    expect(cache.holds("cold")).toBe(false);
  });

  it("a key hot in the window is served from memory until its short TTL ends", async () => {
    const c = clock();
    const cache = new HotKeyCache<{ key: string; n: number }>(opts(c.now));
    const l = loader();
    for (let i = 0; i < 3; i++) await cache.get("hot", l.load);
    expect(l.calls("hot")).toBe(3); // became hot on the 3rd hit, then stored
    expect(cache.holds("hot")).toBe(true);
    for (let i = 0; i < 20; i++) expect(await cache.get("hot", l.load)).toEqual({ key: "hot", n: 3 });
    expect(l.calls("hot")).toBe(3);
    expect(cache.stats).toEqual({ hits: 20, misses: 3 });
    c.advance(501);
    expect(await cache.get("hot", l.load)).toEqual({ key: "hot", n: 4 });
  });

  it("holds at most maxEntries keys, the hottest ones", async () => {
    const c = clock();
    const cache = new HotKeyCache<{ key: string; n: number }>(opts(c.now));
    const l = loader();
    for (const [key, hits] of [
      ["a", 30],
      ["b", 20],
      ["c", 10],
    ] as const)
      for (let i = 0; i < hits; i++) await cache.get(key, l.load);
    c.advance(100);
    await cache.get("a", l.load);
    expect(cache.hotKeys().map(([k]) => k)).toEqual(["a", "b"]);
    expect(cache.holds("c")).toBe(false);
    expect(cache.size).toBeLessThanOrEqual(2);
  });

  it("a key that cools down is dropped from memory at once", async () => {
    const c = clock();
    const cache = new HotKeyCache<{ key: string; n: number }>({ ...opts(c.now), ttlMs: 60_000 });
    const l = loader();
    for (let i = 0; i < 5; i++) await cache.get("k", l.load);
    expect(cache.holds("k")).toBe(true);
    c.advance(1_100);
    await cache.get("other", l.load);
    expect(cache.holds("k")).toBe(false);
  });

  it("concurrent misses of one key share one load, and a failed load is not cached", async () => {
    const c = clock();
    const cache = new HotKeyCache<{ v: number }>(opts(c.now));
    let runs = 0;
    const slow = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 10));
      return { v: runs };
    };
    const got = await Promise.all(Array.from({ length: 10 }, () => cache.get("k", slow)));
    expect(runs).toBe(1);
    expect(new Set(got.map((g) => g.v))).toEqual(new Set([1]));
    cache.invalidate("k");
    await expect(cache.get("k", async () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(cache.holds("k")).toBe(false);
  });

  it("lookup and offer let a caller batch its misses: only hot keys are kept, each lookup counts", () => {
    const c = clock();
    const cache = new HotKeyCache<string>(opts(c.now));
    expect(cache.lookup("a")).toBeUndefined();
    cache.offer("a", "A1"); // one hit of 3: not hot, not kept
    expect(cache.holds("a")).toBe(false);
    cache.lookup("a");
    cache.lookup("a");
    cache.offer("a", "A2");
    expect(cache.lookup("a")).toBe("A2");
    expect(cache.stats).toEqual({ hits: 1, misses: 3 });
    cache.invalidate("a");
    expect(cache.lookup("a")).toBeUndefined();
  });

  it("clear drops every held value, and hot keys are kept again when next offered", () => {
    const c = clock();
    const cache = new HotKeyCache<string>(opts(c.now));
    for (const k of ["a", "b"]) {
      for (let i = 0; i < 3; i++) cache.lookup(k);
      cache.offer(k, k.toUpperCase());
    }
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.lookup("a")).toBeUndefined();
    cache.offer("a", "A2"); // still hot: kept again
    expect(cache.lookup("a")).toBe("A2");
  });

  it("refresh ahead: a value looked up since it was loaded is due at refreshAfterMs, still served, and reported once; the TTL stays the bound", () => {
    const c = clock();
    const cache = new HotKeyCache<string>({ ...opts(c.now), maxEntries: 10, refreshAfterMs: 300 });
    const heat = (k: string) => {
      for (let i = 0; i < 3; i++) cache.lookup(k);
      cache.offer(k, `${k}1`);
    };
    heat("a");
    c.advance(10);
    heat("b");
    heat("idle");
    expect(cache.lookup("a")).toBe("a1");
    expect(cache.lookup("b")).toBe("b1");
    expect(cache.holds("idle")).toBe(true); // holds() is not a lookup: "idle" stays unused
    c.advance(289);
    expect(cache.dueForMs()).toBeUndefined(); // a is 299 ms old: nothing due yet
    expect(cache.takeDue()).toEqual([]);
    c.advance(1);
    expect(cache.dueForMs()).toBe(0);
    c.advance(40);
    expect(cache.dueForMs()).toBe(40); // a has been due for 40 ms
    expect(cache.lookup("a")).toBe("a1"); // still served
    expect(cache.takeDue()).toEqual(["a", "b"]); // oldest first; "idle" was never looked up
    expect(cache.takeDue()).toEqual([]); // each load reported once
    expect(cache.dueForMs()).toBeUndefined();

    cache.offer("a", "a2"); // a's reload arrives: served, due again only after refreshAfterMs and a lookup
    expect(cache.lookup("a")).toBe("a2");
    // b's reload never came: it is not served past its TTL (500 ms after its load, at 10)
    c.advance(169);
    expect(cache.lookup("b")).toBe("b1");
    c.advance(1);
    expect(cache.lookup("b")).toBeUndefined();

    // a value past its refresh age unused becomes due at its first lookup
    const late = new HotKeyCache<string>({ ...opts(c.now), maxEntries: 10, refreshAfterMs: 300 });
    for (let i = 0; i < 3; i++) late.lookup("x");
    late.offer("x", "x1");
    c.advance(350);
    expect(late.takeDue()).toEqual([]);
    c.advance(20);
    expect(late.lookup("x")).toBe("x1");
    c.advance(5);
    expect(late.dueForMs()).toBe(5);
    expect(late.takeDue(0)).toEqual([]); // at most max
    expect(late.takeDue()).toEqual(["x"]);

    // a key dropped before its reload is not reported
    cache.lookup("a");
    c.advance(300);
    cache.invalidate("a");
    expect(cache.takeDue()).toEqual([]);
    expect(() => new HotKeyCache({ refreshAfterMs: 0 })).toThrow(RangeError);
  });

  it("refresh ahead: what is kept for it stays bounded when nobody takes the due keys", () => {
    const c = clock();
    const cache = new HotKeyCache<string>({ ...opts(c.now), maxEntries: 3, refreshAfterMs: 100 });
    const internals = cache as unknown as { loaded: unknown[]; loadedHead: number };
    for (const k of ["a", "b", "c"]) for (let i = 0; i < 3; i++) cache.lookup(k);
    // keys loaded over and over (as get() does), never taken
    for (let round = 0; round < 50; round++) {
      c.advance(10);
      for (const k of ["a", "b", "c"]) {
        cache.lookup(k);
        cache.offer(k, `${k}${round}`);
      }
    }
    expect(internals.loaded.length - internals.loadedHead).toBeLessThanOrEqual(6);
    expect(cache.takeDue().length).toBeLessThanOrEqual(3);
  });

  it("hotKeyCache builds one from a service's settings, and none when its size is 0", async () => {
    const c = clock();
    expect(hotKeyCache({ size: 0, ttlMs: 500, minHits: 1 })).toBeUndefined();
    const cache = hotKeyCache<string>({ size: 2, ttlMs: 500, minHits: 1, now: c.now })!;
    const l = loader();
    await cache.get("k", async (k) => (await l.load(k)).key);
    expect(await cache.get("k", async (k) => (await l.load(k)).key)).toBe("k");
    expect(l.calls("k")).toBe(1);
  });

  it("sampling: a key not held is counted at every lookup; of a held key's lookups one in sampleEvery counts, as sampleEvery hits", () => {
    const c = clock();
    const draws = [0.9, 0.9, 0.9, 0.1]; // of four draws only the 4th samples (0.1 × 4 < 1)
    let i = 0;
    const cache = new HotKeyCache<string>({ ...opts(c.now), minHits: 3, sampleEvery: 4, random: () => draws[i++ % draws.length]! });
    cache.lookup("a");
    cache.lookup("a");
    cache.offer("a", "A");
    expect(cache.holds("a")).toBe(false); // two lookups of 3: not hot, however the draws fall
    expect(cache.lookup("a")).toBeUndefined(); // the third makes it hot
    cache.offer("a", "A");
    expect(cache.hotKeys()).toEqual([["a", 3]]);
    expect(i).toBe(0); // nothing was drawn for a key not held
    for (let n = 0; n < 4; n++) expect(cache.lookup("a")).toBe("A");
    expect(cache.hotKeys()).toEqual([["a", 7]]); // four lookups of a held key: one sampled, counted as 4

    // with real randomness, a key that takes a tenth of 2 000 lookups among 900 rare keys stays hot, the rare ones never are
    const real = new HotKeyCache<string>({ maxEntries: 10, ttlMs: 500, windowMs: 1_000, buckets: 10, minHits: 20, sampleEvery: 4, now: c.now });
    for (let n = 0; n < 2_000; n++) {
      const key = n % 10 === 0 ? "hot" : `rare${n % 1_000}`;
      if (real.lookup(key) === undefined) real.offer(key, key);
    }
    expect(real.holds("hot")).toBe(true);
    expect(real.hotKeys().map(([k]) => k)).toEqual(["hot"]);
    expect(() => new HotKeyCache({ sampleEvery: 0 })).toThrow(RangeError);
  });
});
