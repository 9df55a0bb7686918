import { compareNewestFirst, isAfterCursor, type CursorPosition } from "./cursor.js";

/** One page of a newest-first list, with the cursor of its last item when more may follow. */
export interface KeysetPage<T> {
  readonly items: readonly T[];
  /** Position of the last item when there is a further page; undefined on the last page. */
  readonly next: CursorPosition | undefined;
}

/**
 * Pages an in-memory list the same way the stores page theirs: items strictly
 * after `cursor` in (timeMs desc, id desc) order, `limit` at most. Used for
 * lists computed whole in memory, such as friends (bounded by the following cap).
 */
export function pageNewestFirst<T extends CursorPosition>(all: readonly T[], cursor: CursorPosition | undefined, limit: number): KeysetPage<T> {
  if (!Number.isInteger(limit) || limit <= 0) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const after = cursor === undefined ? [...all] : all.filter((x) => isAfterCursor(x, cursor));
  after.sort(compareNewestFirst);
  const items = after.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: after.length > limit && last ? { timeMs: last.timeMs, id: last.id } : undefined };
}
