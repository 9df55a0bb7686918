/**
 * The keyset page script against a brute-force model: random lists with ties
 * of every size (ids of different lengths), paged with every small limit, give
 * exactly the list in (time desc, id numerically desc) order. Lists of mostly
 * distinct times, with a tie here and there, take the script's path for
 * entries no neighbour ties with and put ties at every place a page can end.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RelationCache } from "../src/adapters/redis/relation-cache.js";
import { compareNewestFirst, type CursorPosition } from "../src/domain/cursor.js";
import { redisFixture, type RedisFixture } from "./redis-fixture.js";

let fx: RedisFixture;
let cache: RelationCache;
let user = 50_000;

beforeAll(() => {
  fx = redisFixture();
  cache = new RelationCache(fx.client(), { keyPrefix: fx.prefix });
});
afterAll(() => fx.cleanup());

/** `distinctTimes`: how many different times the list's entries are spread over. */
function randomList(size: number, rnd: () => number, distinctTimes = Math.max(1, size / 6)) {
  const ids = new Set<number>();
  while (ids.size < size) ids.add(rnd() < 0.5 ? 1 + Math.floor(rnd() * 200) : 10 ** (3 + Math.floor(rnd() * 10)) + Math.floor(rnd() * 1000));
  return [...ids].map((id) => ({ id, timeMs: 1_000 + Math.floor(rnd() * distinctTimes) }));
}

async function expectPagedInOrder(list: { id: number; timeMs: number }[]) {
  const a = ++user;
  await cache.ensureLoaded(a, async () => ({ rows: list.map((x) => ({ to: x.id, timeMs: x.timeMs, version: 1 })), maxVersion: 1 }));
  const expected = [...list].sort(compareNewestFirst);
  for (const limit of [1, 2, 3, 4, 7, 13, 20, 21, 50]) {
    const seen: CursorPosition[] = [];
    let cursor: CursorPosition | undefined;
    for (let guard = 0; guard < 1_000; guard++) {
      const p = await cache.followingPage(a, cursor, limit);
      if (p.status !== "ok") throw new Error("not loaded");
      expect(p.items.length).toBeLessThanOrEqual(limit);
      expect(p.total).toBe(list.length);
      seen.push(...p.items);
      if (!p.next) break;
      cursor = p.next;
    }
    expect(seen).toEqual(expected);
  }
}

describe("page_desc", () => {
  it("pages any list with ties exactly like a sort by (time desc, id desc)", async () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (const size of [0, 1, 5, 17, 60, 150]) await expectPagedInOrder(randomList(size, rnd));
  });

  it("pages lists of mostly distinct times, with a few ties anywhere, in the same order", async () => {
    let seed = 11;
    const rnd = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (const size of [1, 2, 20, 21, 22, 43, 120]) {
      // about one entry in ten shares its time with another
      for (let round = 0; round < 3; round++) await expectPagedInOrder(randomList(size, rnd, size * 5));
    }
  });
});
