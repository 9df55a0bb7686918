/**
 * Deciding "does B follow T" for a B whose following:{B} is cold: the shard's
 * `fans` row of T for B, with B's unpersisted transition of B→T laid over it
 * (the overlay is newer than the shard whenever its version is higher).
 */
import { compareNewestFirst, type CursorPosition } from "./cursor.js";
import type { FanEdge } from "./ports.js";
import type { PendingEntry } from "./relation-transition.js";

/** True when B follows T, from the shard row (if any) and B's pending entry for T (if any). */
export function followsBack(edge: FanEdge | undefined, pending: PendingEntry | undefined): boolean {
  if (pending && (!edge || pending.version > edge.version)) return pending.action === "follow";
  return edge?.active ?? false;
}

/** Merges lists of positions into one newest-first list. */
export function newestFirst<T extends CursorPosition>(...lists: readonly (readonly T[])[]): T[] {
  return lists.flat().sort(compareNewestFirst);
}
