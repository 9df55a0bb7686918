/**
 * The per-user count rows beside the edges (`following_counts` in the
 * follower's shard, `follower_counts` in the followee's): read, optionally
 * under lock, and written as absolute values with their version. The values
 * are decided in count-arithmetic.ts; this file only runs the SQL.
 */
import type { RowDataPacket } from "@rs/mysql";
import type { CountValues, StoredCount } from "./count-arithmetic.js";
import type { EdgeSide } from "./edge-side.js";
import { chunks, type Queryable } from "./sql-chunks.js";

interface CountDbRow extends RowDataPacket {
  user_id: number;
  value: number;
  version: number;
}

/** Reads the counts of `users` on one side (absent users are missing from the map); `forUpdate` locks them. */
export async function readCounts(db: Queryable, side: EdgeSide, users: readonly number[], forUpdate: boolean): Promise<Map<number, StoredCount>> {
  const stored = new Map<number, StoredCount>();
  const sorted = [...users].sort((a, b) => a - b);
  for (const part of chunks(sorted)) {
    const [rows] = await db.query<CountDbRow[]>(
      `SELECT user_id, ${side.countColumn} AS value, version FROM ${side.countTable} WHERE user_id IN (?) ORDER BY user_id${forUpdate ? " FOR UPDATE" : ""}`,
      [part],
    );
    for (const r of rows) stored.set(Number(r.user_id), { value: Number(r.value), version: Number(r.version) });
  }
  return stored;
}

/**
 * Writes absolute counts: `existing` rows (locked by the caller) are updated,
 * `created` ones inserted plainly (a duplicate means a concurrent insert: the
 * transaction is retried).
 */
export async function writeCountRows(conn: Queryable, side: EdgeSide, existing: readonly CountValues[], created: readonly CountValues[]): Promise<void> {
  const cols = `(user_id, ${side.countColumn}, version, updated_at)`;
  for (const part of chunks(existing)) {
    await conn.query(
      `INSERT INTO ${side.countTable} ${cols} VALUES ?
       ON DUPLICATE KEY UPDATE ${side.countColumn} = VALUES(${side.countColumn}), updated_at = VALUES(updated_at), version = VALUES(version)`,
      [part],
    );
  }
  for (const part of chunks(created)) await conn.query(`INSERT INTO ${side.countTable} ${cols} VALUES ?`, [part]);
}
