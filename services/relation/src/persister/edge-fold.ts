/**
 * The persister's decisions over edge rows, as pure logic: given a row as
 * stored (under lock) and the transitions of that edge in a batch, what the
 * row becomes and whether the edge went active↔inactive (foldEdge); over a
 * batch on one side, which rows to write and how far each owner's count moves
 * (foldSide). The per-user counts move by exactly these transitions, so a
 * replayed, duplicated or reordered event (version not newer than the row's)
 * changes neither the row nor a count. The persister and the reconciler's
 * edge repair both fold here (apply-side.ts).
 */
import type { RelationTransition } from "../domain/relation-transition.js";
import type { CountMove } from "./count-arithmetic.js";
import { edgeKey, type EdgeSide } from "./edge-side.js";

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
  const applies = (e: EdgeEvent) => e.version > baseVersion || (e.replace === true && e.version === baseVersion);
  // most edges get one event per batch: no filtered, sorted copy for them
  const newer = events.length === 1 ? (applies(events[0]!) ? events : []) : events.filter(applies).sort((a, b) => a.version - b.version);
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

/** An edge row with the edge it belongs to. */
export interface KeyedEdgeRow extends EdgeRow {
  readonly owner: number;
  readonly other: number;
}

/** One edge of a side and the batch's events of it. */
export interface EdgeEvents {
  /** `owner:other`, as edgeKey makes it. */
  readonly key: string;
  readonly owner: number;
  readonly other: number;
  readonly events: EdgeEvent[];
}

/** A batch's events grouped by the edge they move on one side, in order of first appearance. */
export function groupByEdge(side: EdgeSide, events: readonly EdgeEvent[]): EdgeEvents[] {
  const byEdge = new Map<string, EdgeEvents>();
  for (const e of events) {
    const owner = side.owner(e);
    const other = side.other(e);
    const key = edgeKey(owner, other);
    const edge = byEdge.get(key);
    if (edge) edge.events.push(e);
    else byEdge.set(key, { key, owner, other, events: [e] });
  }
  return [...byEdge.values()];
}

/** What a batch does to one side: the rows to write, the counts' moves, and what it tells about each edge. */
export interface SideFold {
  /** Rows to write that were stored (updated) and that were absent (inserted). */
  readonly existing: KeyedEdgeRow[];
  readonly created: KeyedEdgeRow[];
  /** Per owner, the net move of its count; owners whose transitions cancel out are absent. */
  readonly moves: Map<number, CountMove>;
  /** Owners of an edge that got nothing newer than its row (a replay): their stored count is published again. */
  readonly unchangedOwners: Set<number>;
  /** Per edge, the batch's newest event when it is the row's state after the batch. */
  readonly current: EdgeEvent[];
  /** Edges whose row changed. */
  readonly edgesChanged: number;
  /** Active↔inactive transitions, net per edge. */
  readonly transitions: number;
  /** Events applied to a row (each newer than the row when applied). */
  readonly eventsApplied: number;
}

/** Folds each edge's events over its stored row (`stored`, keyed by `owner:other`; absent = no row). */
export function foldSide(edges: readonly EdgeEvents[], stored: ReadonlyMap<string, EdgeRow>): SideFold {
  const existing: KeyedEdgeRow[] = [];
  const created: KeyedEdgeRow[] = [];
  const net = new Map<number, { delta: number; newest: number }>();
  const unchangedOwners = new Set<number>();
  const current: EdgeEvent[] = [];
  let edgesChanged = 0;
  let transitions = 0;
  let eventsApplied = 0;
  for (const { key, owner, other, events } of edges) {
    const row = stored.get(key);
    const fold = foldEdge(row, events);
    const newestInBatch = events.reduce((a, b) => (b.version > a.version ? b : a));
    if (!fold.next) {
      unchangedOwners.add(owner);
      if (row && row.version === newestInBatch.version) current.push(newestInBatch);
      continue;
    }
    edgesChanged++;
    eventsApplied += fold.applied;
    current.push(newestInBatch);
    (row ? existing : created).push({ owner, other, ...fold.next });
    if (fold.delta !== 0) {
      transitions++;
      const m = net.get(owner) ?? { delta: 0, newest: 0 };
      m.delta += fold.delta;
      m.newest = Math.max(m.newest, fold.next.version);
      net.set(owner, m);
    }
  }
  const moves = new Map([...net].filter(([, m]) => m.delta !== 0));
  return { existing, created, moves, unchangedOwners, current, edgesChanged, transitions, eventsApplied };
}
