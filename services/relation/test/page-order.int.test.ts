/**
 * The keyset page script against a brute-force model: random lists with ties
 * of every size (ids of different lengths), paged with every small limit, give
 * exactly the list in (time desc, id numerically desc) order.
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

function randomList(size: number, rnd: () => number) {
  const ids = new Set<number>();
  while (ids.size < size) ids.add(rnd() < 0.5 ? 1 + Math.floor(rnd() * 200) : 10 ** (3 + Math.floor(rnd() * 10)) + Math.floor(rnd() * 1000));
  // few distinct times: groups of ties from 1 to dozens of members
  return [...ids].map((id) => ({ id, timeMs: 1_000 + Math.floor(rnd() * Math.max(1, size / 6)) }));
}

describe("page_desc", () => {
  it("pages any list with ties exactly like a sort by (time desc, id desc)", async () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (const size of [0, 1, 5, 17, 60, 150]) {
      const list = randomList(size, rnd);
      const a = ++user;
      await cache.ensureLoaded(a, async () => ({ rows: list.map((x) => ({ to: x.id, timeMs: x.timeMs, version: 1 })), maxVersion: 1 }));
      const expected = [...list].sort(compareNewestFirst);
      for (const limit of [1, 2, 3, 4, 7, 13, 50]) {
        const seen: CursorPosition[] = [];
        let cursor: CursorPosition | undefined;
        for (let guard = 0; guard < 1_000; guard++) {
          const p = await cache.followingPage(a, cursor, limit);
          if (p.status !== "ok") throw new Error("not loaded");
          expect(p.items.length).toBeLessThanOrEqual(limit);
          seen.push(...p.items);
          if (!p.next) break;
          cursor = p.next;
        }
        expect(seen).toEqual(expected);
      }
    }
  });
});
