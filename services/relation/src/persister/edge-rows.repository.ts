/**
 * The SQL of the edge rows of one side (`follows` or `fans`, edge-side.ts):
 * read by primary key (under lock inside a transaction), scanned in key
 * order, written, and counted per owner. It decides nothing: what to write
 * comes from the fold (edge-fold.ts).
 */
import type { RowDataPacket } from "@rs/mysql";
import { ACTIVE, type EdgeStatus, type KeyedEdgeRow } from "./edge-fold.js";
import { edgeKey, type EdgeSide } from "./edge-side.js";
import { chunks, type Queryable } from "./sql-chunks.js";

interface EdgeDbRow extends RowDataPacket {
  owner: number;
  other: number;
  status: number;
  version: number;
  created_at: number;
  updated_at: number;
  source: number;
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

const rowValues = (r: KeyedEdgeRow) => [r.owner, r.other, r.source, r.status, r.createdAtMs, r.version, r.updatedAtMs];

/**
 * Writes decided rows inside the caller's transaction: `existing` ones (read
 * under lock) are updated, `created` ones (read absent) inserted plainly, so a
 * row a concurrent writer inserted meanwhile fails the transaction with a
 * duplicate key and it is run again with fresh reads (shard-transaction.ts).
 */
export async function writeEdgeRows(db: Queryable, side: EdgeSide, existing: readonly KeyedEdgeRow[], created: readonly KeyedEdgeRow[]): Promise<void> {
  const cols = `(${side.ownerColumn}, ${side.otherColumn}, source, status, created_at, version, updated_at)`;
  for (const part of chunks(existing.map(rowValues))) {
    // The rows are locked and the values decided; the guard only repeats, in
    // SQL, that an older version never overwrites a newer one (equal: the
    // reconciler settling a conflict). version last: MySQL evaluates the
    // assignments left to right.
    await db.query(
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
  for (const part of chunks(created.map(rowValues))) await db.query(`INSERT INTO ${side.table} ${cols} VALUES ?`, [part]);
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
