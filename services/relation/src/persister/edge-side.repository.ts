/**
 * Writes one side of a batch of edge transitions inside a shard transaction:
 * the `follows` rows (keyed by the follower) with `following_counts`, or the
 * `fans` rows (keyed by the followee) with `follower_counts`.
 *
 * Under row locks it reads the rows, folds the events over them (edge-fold.ts),
 * writes only rows that got something newer, and moves each owner's count by
 * the transitions that really happened, to an absolute value with a new
 * version. Rows it saw absent are written with a plain INSERT: if a concurrent
 * writer (a zombie consumer after a rebalance) inserted one meanwhile, the
 * duplicate key fails the transaction, which is then run again with fresh reads
 * (shard-transaction.ts), so a transition is never counted twice.
 */
import type { CountChangedRecord, CountName } from "@rs/idl";
import type { PoolConnection, RowDataPacket } from "@rs/mysql";
import { readCounts, writeCountRows, type CountValues } from "./count-rows.repository.js";
import { ACTIVE, foldEdge, nextCountVersion, type EdgeEvent, type EdgeRow, type EdgeStatus } from "./edge-fold.js";
import { chunks } from "./sql-chunks.js";

export type { CountName };

/** A count after a committed change (or as stored, when published again): what count.changed carries. */
export type CountChange = CountChangedRecord;

interface SideSpec {
  readonly table: "follows" | "fans";
  readonly ownerColumn: "from_user_id" | "to_user_id";
  readonly otherColumn: "from_user_id" | "to_user_id";
  readonly countTable: "following_counts" | "follower_counts";
  readonly countColumn: "following_count" | "follower_count";
  readonly countName: CountName;
  owner(e: EdgeEvent): number;
  other(e: EdgeEvent): number;
}

export const FOLLOWS_SIDE: SideSpec = {
  table: "follows",
  ownerColumn: "from_user_id",
  otherColumn: "to_user_id",
  countTable: "following_counts",
  countColumn: "following_count",
  countName: "following",
  owner: (e) => e.from,
  other: (e) => e.to,
};

export const FANS_SIDE: SideSpec = {
  table: "fans",
  ownerColumn: "to_user_id",
  otherColumn: "from_user_id",
  countTable: "follower_counts",
  countColumn: "follower_count",
  countName: "follower",
  owner: (e) => e.to,
  other: (e) => e.from,
};

export type EdgeSide = SideSpec;

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

interface EdgeDbRow extends RowDataPacket {
  owner: number;
  other: number;
  status: number;
  version: number;
  created_at: number;
  updated_at: number;
  source: number;
}

const edgeKey = (owner: number, other: number) => `${owner}:${other}`;

/** Anything that runs a query: a pool (plain reads) or a connection in a transaction. */
export type Queryable = Pick<PoolConnection, "query">;

/** An edge row with the edge it belongs to. */
export interface KeyedEdgeRow extends EdgeRow {
  readonly owner: number;
  readonly other: number;
}

function toEdgeRow(r: EdgeDbRow): KeyedEdgeRow {
  return {
    owner: Number(r.owner),
    other: Number(r.other),
    status: (Number(r.status) === ACTIVE ? 1 : 0) as EdgeStatus,
    version: Number(r.version),
    createdAtMs: Number(r.created_at),
    updatedAtMs: Number(r.updated_at),
    source: Number(r.source),
  };
}

const EDGE_COLUMNS = (side: EdgeSide) => `${side.ownerColumn} AS owner, ${side.otherColumn} AS other, status, version, created_at, updated_at, source`;

/**
 * Reads the given edge rows (owner, other) of one side by primary key, in key
 * order; with `forUpdate` under exclusive locks (inside a transaction).
 * Keyed by `owner:other`.
 */
export async function readEdgeRows(
  db: Queryable,
  side: EdgeSide,
  pairs: readonly (readonly [number, number])[],
  forUpdate: boolean,
): Promise<Map<string, KeyedEdgeRow>> {
  const rows = new Map<string, KeyedEdgeRow>();
  const sorted = [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const part of chunks(sorted)) {
    const [found] = await db.query<EdgeDbRow[]>(
      `SELECT ${EDGE_COLUMNS(side)}
         FROM ${side.table} FORCE INDEX (PRIMARY)
        WHERE (${side.ownerColumn}, ${side.otherColumn}) IN (?)
        ORDER BY ${side.ownerColumn}, ${side.otherColumn}${forUpdate ? " FOR UPDATE" : ""}`,
      [part],
    );
    for (const r of found) rows.set(edgeKey(Number(r.owner), Number(r.other)), toEdgeRow(r));
  }
  return rows;
}

/** One keyset step over a side's rows in primary-key order, strictly after `after` (owner, other). */
export async function scanEdgeRows(db: Queryable, side: EdgeSide, after: readonly [number, number], limit: number): Promise<KeyedEdgeRow[]> {
  const [rows] = await db.query<EdgeDbRow[]>(
    `SELECT ${EDGE_COLUMNS(side)} FROM ${side.table}
      WHERE ${side.ownerColumn} > ? OR (${side.ownerColumn} = ? AND ${side.otherColumn} > ?)
      ORDER BY ${side.ownerColumn}, ${side.otherColumn} LIMIT ?`,
    [after[0], after[0], after[1], limit],
  );
  return rows.map(toEdgeRow);
}

export { edgeKey };

type RowValues = [number, number, number, number, number, number, number];

async function writeEdges(conn: PoolConnection, side: EdgeSide, existing: RowValues[], created: RowValues[]): Promise<void> {
  const cols = `(${side.ownerColumn}, ${side.otherColumn}, source, status, created_at, version, updated_at)`;
  for (const part of chunks(existing)) {
    // The rows are locked and the values decided; the guard only repeats, in
    // SQL, that an older version never overwrites a newer one (equal: the
    // reconciler settling a conflict). version last: MySQL evaluates the
    // assignments left to right.
    await conn.query(
      `INSERT INTO ${side.table} ${cols} VALUES ?
       ON DUPLICATE KEY UPDATE
         source     = IF(VALUES(version) >= version, VALUES(source), source),
         status     = IF(VALUES(version) >= version, VALUES(status), status),
         created_at = IF(VALUES(version) >= version, VALUES(created_at), created_at),
         updated_at = IF(VALUES(version) >= version, VALUES(updated_at), updated_at),
         version    = GREATEST(version, VALUES(version))`,
      [part],
    );
  }
  // Plain INSERT: a duplicate means someone else wrote the row after we read it.
  for (const part of chunks(created)) await conn.query(`INSERT INTO ${side.table} ${cols} VALUES ?`, [part]);
}

/** Applies `events` to one side inside the caller's transaction on the shard that holds their owners. */
export async function applySide(conn: PoolConnection, side: EdgeSide, events: readonly EdgeEvent[], nowMs: number): Promise<SideOutcome> {
  const byEdge = new Map<string, EdgeEvent[]>();
  for (const e of events) {
    const k = edgeKey(side.owner(e), side.other(e));
    const list = byEdge.get(k);
    if (list) list.push(e);
    else byEdge.set(k, [e]);
  }
  const pairs = [...byEdge.values()].map((list) => [side.owner(list[0]!), side.other(list[0]!)] as const);
  const stored = await readEdgeRows(conn, side, pairs, true);

  const existing: RowValues[] = [];
  const created: RowValues[] = [];
  const delta = new Map<number, { delta: number; newest: number }>();
  const republish = new Set<number>();
  const current: EdgeEvent[] = [];
  let edgesChanged = 0;
  let transitions = 0;
  let eventsApplied = 0;
  for (const [k, list] of byEdge) {
    const owner = side.owner(list[0]!);
    const other = side.other(list[0]!);
    const row = stored.get(k);
    const fold = foldEdge(row, list);
    const newestInBatch = list.reduce((a, b) => (b.version > a.version ? b : a));
    if (!fold.next) {
      republish.add(owner);
      if (row && row.version === newestInBatch.version) current.push(newestInBatch);
      continue;
    }
    edgesChanged++;
    eventsApplied += fold.applied;
    current.push(newestInBatch);
    const n = fold.next;
    (row ? existing : created).push([owner, other, n.source, n.status, n.createdAtMs, n.version, n.updatedAtMs]);
    if (fold.delta !== 0) {
      transitions++;
      const d = delta.get(owner) ?? { delta: 0, newest: 0 };
      d.delta += fold.delta;
      d.newest = Math.max(d.newest, n.version);
      delta.set(owner, d);
    }
  }
  await writeEdges(conn, side, existing, created);

  const moved = [...delta].filter(([, d]) => d.delta !== 0).map(([owner]) => owner);
  const { counts, underflows } = await moveCounts(conn, side, moved, delta, republish, nowMs);
  return { edgesChanged, edgesUnchanged: byEdge.size - edgesChanged, transitions, eventsApplied, counts, current, underflows };
}

async function moveCounts(
  conn: PoolConnection,
  side: EdgeSide,
  moved: readonly number[],
  delta: ReadonlyMap<number, { delta: number; newest: number }>,
  republish: ReadonlySet<number>,
  nowMs: number,
): Promise<{ counts: CountChange[]; underflows: number }> {
  const users = [...new Set([...moved, ...republish])].sort((a, b) => a - b);
  if (users.length === 0) return { counts: [], underflows: 0 };
  const stored = await readCounts(conn, side, users, true);

  const counts: CountChange[] = [];
  const existing: CountValues[] = [];
  const created: CountValues[] = [];
  let underflows = 0;
  const movedSet = new Set(moved);
  for (const user of users) {
    const before = stored.get(user);
    if (!movedSet.has(user)) {
      if (before) counts.push({ userId: user, name: side.countName, value: before.value, version: before.version });
      continue;
    }
    const d = delta.get(user)!;
    let value = (before?.value ?? 0) + d.delta;
    if (value < 0) {
      underflows++;
      value = 0;
    }
    const version = nextCountVersion(before?.version ?? 0, d.newest);
    (before ? existing : created).push([user, value, version, nowMs]);
    counts.push({ userId: user, name: side.countName, value, version });
  }
  await writeCountRows(conn, side, existing, created);
  return { counts, underflows };
}

/** Active rows per owner among `owners` (owners without any are missing from the map). */
export async function countActive(db: Queryable, side: EdgeSide, owners: readonly number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const part of chunks(owners)) {
    const [rows] = await db.query<(RowDataPacket & { owner: number; n: number })[]>(
      `SELECT ${side.ownerColumn} AS owner, COUNT(*) AS n FROM ${side.table} WHERE ${side.ownerColumn} IN (?) AND status = ? GROUP BY ${side.ownerColumn}`,
      [part, ACTIVE],
    );
    for (const r of rows) out.set(Number(r.owner), Number(r.n));
  }
  return out;
}
