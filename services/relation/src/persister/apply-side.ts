/**
 * Writes one side of a batch of edge transitions inside a shard transaction:
 * the `follows` rows (keyed by the follower) with `following_counts`, or the
 * `fans` rows (keyed by the followee) with `follower_counts` (edge-side.ts).
 *
 * Under row locks it reads the rows (edge-rows.repository.ts), folds the
 * events over them (edge-fold.ts), writes only rows that got something newer,
 * and moves each owner's count by the transitions that really happened, to an
 * absolute value with a new version (count-arithmetic.ts,
 * count-rows.repository.ts). Rows it saw absent are written with a plain
 * INSERT: if a concurrent writer (a zombie consumer after a rebalance)
 * inserted one meanwhile, the duplicate key fails the transaction, which is
 * then run again with fresh reads (shard-transaction.ts), so a transition is
 * never counted twice. The persister and the reconciler's edge repair both
 * write through here.
 */
import { countsAfterMoves, type CountChange } from "./count-arithmetic.js";
import { readCounts, writeCountRows } from "./count-rows.repository.js";
import { foldSide, groupByEdge, type EdgeEvent } from "./edge-fold.js";
import { readEdgeRows, writeEdgeRows } from "./edge-rows.repository.js";
import type { EdgeSide } from "./edge-side.js";
import type { Queryable } from "./sql-chunks.js";

export interface SideOutcome {
  /** Edges whose row changed. */
  readonly edgesChanged: number;
  /** Edges where nothing in the batch was newer than the row (replays, duplicates). */
  readonly edgesUnchanged: number;
  /** Active↔inactive transitions applied, net per edge and chunk (what the counts moved by, in absolute terms). */
  readonly transitions: number;
  /** Events applied to a row (each newer than the row when applied); replays and duplicates are not. */
  readonly eventsApplied: number;
  /** Counts changed by this transaction, plus the stored counts of owners with unchanged edges. */
  readonly counts: readonly CountChange[];
  /** Per edge, the batch's newest event when it is the row's state after the transaction. */
  readonly current: readonly EdgeEvent[];
  /** Counts that would have gone below zero (a divergence the reconciler repairs). */
  readonly underflows: number;
}

/** Applies `events` to one side inside the caller's transaction on the shard that holds their owners. */
export async function applySide(conn: Queryable, side: EdgeSide, events: readonly EdgeEvent[], nowMs: number): Promise<SideOutcome> {
  const edges = groupByEdge(side, events);
  const stored = await readEdgeRows(
    conn,
    side,
    edges.map((e) => [e.owner, e.other] as const),
    true,
  );
  const fold = foldSide(edges, stored);
  await writeEdgeRows(conn, side, fold.existing, fold.created);

  const owners = [...new Set([...fold.moves.keys(), ...fold.unchangedOwners])].sort((a, b) => a - b);
  const counts = countsAfterMoves(side.countName, owners, fold.moves, await readCounts(conn, side, owners, true), nowMs);
  await writeCountRows(conn, side, counts.existing, counts.created);
  const { edgesChanged, transitions, eventsApplied, current } = fold;
  return {
    edgesChanged,
    edgesUnchanged: edges.length - edgesChanged,
    transitions,
    eventsApplied,
    counts: counts.changes,
    current,
    underflows: counts.underflows,
  };
}
