/**
 * The persister's decision for one edge row, as pure logic: given the row as
 * stored (under lock) and the transitions of that edge in a batch, what the
 * row becomes and whether the edge went active↔inactive. The per-user counts
 * move by exactly these transitions, so a replayed, duplicated or reordered
 * event (version not newer than the row's) changes neither the row nor a count.
 */
import type { RelationTransition } from "../domain/relation-transition.js";

export const ACTIVE = 1;
export const INACTIVE = 0;
export type EdgeStatus = typeof ACTIVE | typeof INACTIVE;

/**
 * One transition of an edge, as the persister applies it to either side
 * (follows or fans): the published transition, plus what the reconciler adds
 * when it copies a row from the other side.
 */
export interface EdgeEvent extends RelationTransition {
  /**
   * Set by the reconciler when it copies a row from the other side: the row's
   * list time, which then replaces created_at even if the edge was active
   * (a copy must equal its original, not merely have the same status).
   */
  readonly listedAtMs?: number;
  /**
   * Set by the reconciler to settle two rows that disagree at the same
   * version: the copy applies at an equal version too.
   */
  readonly replace?: boolean;
  /** The requests the transition was published in (its record's `x-request-id` header), for logs and count.changed. */
  readonly requestIds?: readonly string[];
}

/** The stored state of one edge row (either table). */
export interface EdgeRow {
  readonly status: EdgeStatus;
  readonly version: number;
  /** Unix ms the current follow began (list order). */
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly source: number;
}

export interface EdgeFold {
  /** The row to write; undefined when nothing newer than the stored row arrived. */
  readonly next: EdgeRow | undefined;
  /** +1 inactive/absent → active, −1 active → inactive, 0 otherwise: what the count moves by. */
  readonly delta: -1 | 0 | 1;
  /** The newest event applied (undefined when none was newer than the row). */
  readonly newest: EdgeEvent | undefined;
  /** Distinct events applied (each newer than the row and than the one before it). */
  readonly applied: number;
}

/**
 * Applies, in version order, the events newer than `row` (absent = never
 * existed, i.e. inactive at version 0). A follow of an inactive edge starts a
 * new follow (created_at = its time, its source); a follow of an active edge
 * only moves the version (an undo of an unfollow that never got here); an
 * unfollow makes the edge inactive. An unfollow of an absent edge still writes
 * a row (inactive, with its version), so an older follow arriving later is
 * recognised as stale instead of resurrecting the edge.
 */
export function foldEdge(row: EdgeRow | undefined, events: readonly EdgeEvent[]): EdgeFold {
  const baseVersion = row?.version ?? 0;
  const newer = events.filter((e) => e.version > baseVersion || (e.replace === true && e.version === baseVersion)).sort((a, b) => a.version - b.version);
  if (newer.length === 0) return { next: undefined, delta: 0, newest: undefined, applied: 0 };

  let status: EdgeStatus = row?.status ?? INACTIVE;
  let createdAtMs = row?.createdAtMs ?? 0;
  let source = row?.source ?? 0;
  let last: EdgeEvent | undefined;
  let applied = 0;
  for (const e of newer) {
    if (last && e.version === last.version) continue; // a duplicate inside the batch
    applied++;
    if (e.listedAtMs !== undefined) {
      createdAtMs = e.listedAtMs;
      source = e.source;
    } else if (e.action === "follow" ? status === INACTIVE : row === undefined && last === undefined) {
      // a new follow is listed from now on; a tombstone row needs a list time too (never listed)
      createdAtMs = e.occurredAtMs;
      source = e.source;
    }
    status = e.action === "follow" ? ACTIVE : INACTIVE;
    last = e;
  }
  const newest = last!;
  const before: EdgeStatus = row?.status ?? INACTIVE;
  const delta = status === before ? 0 : status === ACTIVE ? 1 : -1;
  return { next: { status, version: newest.version, createdAtMs, updatedAtMs: newest.occurredAtMs, source }, delta, newest, applied };
}

/**
 * The version a count gets when it changes: strictly above its previous one
 * (every committed change is told apart by consumers of count.changed) and at
 * least the newest transition version it counts.
 */
export function nextCountVersion(previous: number, newestTransition: number): number {
  return Math.max(previous + 1, newestTransition);
}
