/**
 * What the relation service reads from the shards (the persister writes them):
 * a user's active follows for loading following:{A}, keyset pages of a user's
 * fans, the persisted follower count, and edge rows for follow-back checks.
 * Every query is on the shard of the user the table is keyed by, over its list
 * index or primary key; none uses OFFSET.
 */
import type { RowDataPacket, ShardedMysql } from "@rs/mysql";
import type { CursorPosition } from "../../domain/cursor.js";
import type { FanEdge, FanRow, FollowingSnapshot, RelationStore } from "../../domain/ports.js";

/** Ids per `IN (...)` list: keeps statements small and plans stable. */
const IN_CHUNK = 500;
const ACTIVE = 1;

interface FollowDbRow extends RowDataPacket {
  to_user_id: number;
  created_at: number;
  version: number;
}
interface FanPageDbRow extends RowDataPacket {
  from_user_id: number;
  created_at: number;
}
interface FanDbRow extends FanPageDbRow {
  version: number;
}
interface EdgeDbRow extends RowDataPacket {
  from_user_id: number;
  status: number;
  version: number;
}

export class RelationReadsRepository implements RelationStore {
  constructor(private readonly mysql: ShardedMysql) {}

  async followingSnapshot(a: number): Promise<FollowingSnapshot> {
    const pool = this.mysql.poolFor(a);
    const [[rows], [max]] = await Promise.all([
      pool.query<FollowDbRow[]>("SELECT to_user_id, created_at, version FROM follows WHERE from_user_id = ? AND status = ?", [a, ACTIVE]),
      // unfollowed rows count too: the version counter must pass every version A ever had
      pool.query<(RowDataPacket & { v: number })[]>("SELECT COALESCE(MAX(version), 0) AS v FROM follows WHERE from_user_id = ?", [a]),
    ]);
    return {
      rows: rows.map((r) => ({ to: Number(r.to_user_id), timeMs: Number(r.created_at), version: Number(r.version) })),
      maxVersion: Number(max[0]?.v ?? 0),
    };
  }

  async newestFans(b: number, count: number): Promise<FanRow[]> {
    const [rows] = await this.mysql
      .poolFor(b)
      .query<FanDbRow[]>(
        "SELECT from_user_id, created_at, version FROM fans WHERE to_user_id = ? AND status = ? ORDER BY created_at DESC, from_user_id DESC LIMIT ?",
        [b, ACTIVE, count],
      );
    return rows.map((r) => ({ from: Number(r.from_user_id), timeMs: Number(r.created_at), version: Number(r.version) }));
  }

  /**
   * One range of idx_fans_list from the cursor on, read from the index alone
   * (only its columns are selected: no clustered row per fan), so a page deep
   * in a big account's list costs `limit` index entries wherever it starts.
   * FORCE INDEX keeps the range: with `version` selected, MariaDB 10.11 turned
   * a cursor past ~80 % of a 1M-fan list into `ref` on (to_user_id, status),
   * reading every newer fan first (about 1 s a page; bench/big-account.ts).
   */
  async fansAfter(b: number, cursor: CursorPosition | undefined, limit: number): Promise<CursorPosition[]> {
    const pool = this.mysql.poolFor(b);
    const [rows] = cursor
      ? await pool.query<FanPageDbRow[]>(
          `SELECT from_user_id, created_at FROM fans FORCE INDEX (idx_fans_list)
            WHERE to_user_id = ? AND status = ? AND (created_at < ? OR (created_at = ? AND from_user_id < ?))
            ORDER BY created_at DESC, from_user_id DESC LIMIT ?`,
          [b, ACTIVE, cursor.timeMs, cursor.timeMs, cursor.id, limit],
        )
      : await pool.query<FanPageDbRow[]>(
          "SELECT from_user_id, created_at FROM fans FORCE INDEX (idx_fans_list) WHERE to_user_id = ? AND status = ? ORDER BY created_at DESC, from_user_id DESC LIMIT ?",
          [b, ACTIVE, limit],
        );
    return rows.map((r) => ({ id: Number(r.from_user_id), timeMs: Number(r.created_at) }));
  }

  async followerCount(b: number): Promise<number> {
    const [rows] = await this.mysql
      .poolFor(b)
      .query<(RowDataPacket & { follower_count: number })[]>("SELECT follower_count FROM follower_counts WHERE user_id = ?", [b]);
    return Number(rows[0]?.follower_count ?? 0);
  }

  async fanEdges(b: number, fans: readonly number[]): Promise<Map<number, FanEdge>> {
    const out = new Map<number, FanEdge>();
    const pool = this.mysql.poolFor(b);
    for (let i = 0; i < fans.length; i += IN_CHUNK) {
      const chunk = fans.slice(i, i + IN_CHUNK);
      const [rows] = await pool.query<EdgeDbRow[]>("SELECT from_user_id, status, version FROM fans WHERE to_user_id = ? AND from_user_id IN (?)", [b, chunk]);
      for (const r of rows) out.set(Number(r.from_user_id), { active: Number(r.status) === ACTIVE, version: Number(r.version) });
    }
    return out;
  }
}
