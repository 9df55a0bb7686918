/**
 * The per-user counts beside the edges, as pure decisions: the value and
 * version a count gets when the persister moves it by a batch's transitions,
 * when the reconciler sets it to the edges it counts, or when the reconciler
 * raises its version above a copy's; and the rows that write such counts.
 * The persister and the reconciler both decide here; the SQL that reads and
 * writes the rows is count-rows.repository.ts.
 */
import type { CountChangedRecord, CountName } from "@rs/idl";

export type { CountName };

/** A count after a committed change (or as stored, when published again): what count.changed carries. */
export type CountChange = CountChangedRecord;

/** A stored count. */
export interface StoredCount {
  readonly value: number;
  readonly version: number;
}

/** Count rows as (user_id, value, version, updated_at). */
export type CountValues = [number, number, number, number];

/** Versions of transitions are microseconds of the clock; a count version made from the clock is too. */
const US_PER_MS = 1_000;

/**
 * The version a count gets when it changes: strictly above its previous one
 * (every committed change is told apart by consumers of count.changed) and at
 * least the newest transition version it counts.
 */
export function nextCountVersion(previous: number, newestTransition: number): number {
  return Math.max(previous + 1, newestTransition);
}

/**
 * A count moved by the net transitions of a batch (`delta`, the newest of
 * them `newestTransition`). It never goes below zero: an underflow is a
 * divergence, noted for the reconciler to repair.
 */
export function movedCount(before: StoredCount | undefined, delta: number, newestTransition: number): StoredCount & { readonly underflow: boolean } {
  const value = (before?.value ?? 0) + delta;
  return { value: Math.max(0, value), version: nextCountVersion(before?.version ?? 0, newestTransition), underflow: value < 0 };
}

/**
 * The reconciler's repair of a count to the `active` edges it counts, or
 * undefined when it is right (an absent row counts zero). The version is
 * above every version published before, also if the row was lost: the clock
 * in µs beats the versions of transitions.
 */
export function repairedCount(before: StoredCount | undefined, active: number, nowMs: number): StoredCount | undefined {
  if (before?.value === active || (!before && active === 0)) return undefined;
  return { value: active, version: nextCountVersion(before?.version ?? 0, nowMs * US_PER_MS) };
}

/** The same value with a version above both the stored one and a copy's (`copyVersion`), so the next publish wins over the copy. */
export function raisedCount(before: StoredCount | undefined, copyVersion: number, nowMs: number): StoredCount {
  return { value: before?.value ?? 0, version: nextCountVersion(Math.max(before?.version ?? 0, copyVersion), nowMs * US_PER_MS) };
}

/** New counts of users: the rows to update (a stored row exists) or insert, and the changes to publish. */
export interface CountWrites {
  readonly existing: CountValues[];
  readonly created: CountValues[];
  readonly changes: CountChange[];
}

/** One user's count becoming `next`; `stored` is its row as read (undefined: no row yet). */
export interface CountUpdate {
  readonly user: number;
  readonly stored: StoredCount | undefined;
  readonly next: StoredCount;
}

function add(out: CountWrites, name: CountName, { user, stored, next }: CountUpdate, nowMs: number): void {
  (stored ? out.existing : out.created).push([user, next.value, next.version, nowMs]);
  out.changes.push({ userId: user, name, value: next.value, version: next.version });
}

/** New counts of one counter (`name`): the rows that write them and the changes to publish. */
export function countWrites(name: CountName, updates: readonly CountUpdate[], nowMs: number): CountWrites {
  const out: CountWrites = { existing: [], created: [], changes: [] };
  for (const u of updates) add(out, name, u, nowMs);
  return out;
}

/** A count's move by one batch on one side: the net transitions of its owner's edges and the newest version among them. */
export interface CountMove {
  readonly delta: number;
  readonly newest: number;
}

/**
 * The counts of `owners` (in that order) after a batch on one side: an owner
 * in `moves` gets its moved count, written and published; any other owner's
 * stored count is published again as it is (an edge of theirs got nothing
 * newer: a replay, whose count.changed may have been lost), and an owner
 * without a row publishes nothing.
 */
export function countsAfterMoves(
  name: CountName,
  owners: readonly number[],
  moves: ReadonlyMap<number, CountMove>,
  stored: ReadonlyMap<number, StoredCount>,
  nowMs: number,
): CountWrites & { readonly underflows: number } {
  const out: CountWrites = { existing: [], created: [], changes: [] };
  let underflows = 0;
  for (const user of owners) {
    const before = stored.get(user);
    const move = moves.get(user);
    if (!move) {
      if (before) out.changes.push({ userId: user, name, value: before.value, version: before.version });
      continue;
    }
    const next = movedCount(before, move.delta, move.newest);
    if (next.underflow) underflows++;
    add(out, name, { user, stored: before, next: { value: next.value, version: next.version } }, nowMs);
  }
  return { ...out, underflows };
}
