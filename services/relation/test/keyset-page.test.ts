import { describe, expect, it } from "vitest";
import { pageNewestFirst } from "../src/domain/keyset-page.js";
import type { CursorPosition } from "../src/domain/cursor.js";

describe("pageNewestFirst", () => {
  const all: CursorPosition[] = [];
  for (let id = 1; id <= 57; id++) all.push({ id, timeMs: 1_000 + (id % 7) }); // many ties

  it("walks the whole list newest first, without duplicates or gaps", () => {
    const seen: CursorPosition[] = [];
    let cursor: CursorPosition | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = pageNewestFirst(all, cursor, 5);
      seen.push(...page.items);
      if (!page.next) break;
      cursor = page.next;
    }
    expect(seen).toHaveLength(all.length);
    expect(new Set(seen.map((x) => x.id)).size).toBe(all.length);
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1]!, seen[i]!];
      expect(a.timeMs > b.timeMs || (a.timeMs === b.timeMs && a.id > b.id)).toBe(true);
    }
  });

  it("has no next cursor on an exactly full last page", () => {
    const page = pageNewestFirst(all.slice(0, 5), undefined, 5);
    expect(page.items).toHaveLength(5);
    expect(page.next).toBeUndefined();
  });

  it("refuses a bad limit", () => {
    expect(() => pageNewestFirst(all, undefined, 0)).toThrow(RangeError);
  });
});
