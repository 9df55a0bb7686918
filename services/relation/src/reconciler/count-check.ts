/**
 * Stored counts against the edges they count, on one shard and one side
 * (`following_counts` vs active `follows`, `follower_counts` vs active `fans`).
 *
 * Users are streamed in id order from the union of the edge owners and the
 * count rows (two keyset streams merged, `batchRows` each), and each step's
 * counts and cardinalities are read in one consistent snapshot, so a commit of
 * the persister between the two reads is not mistaken for a divergence.
 *
 * A repair locks the count row first and recounts: every transaction that
 * moves the count must lock that row too, so the recount (committed rows only)
 * is exact, and a persister transaction waiting on the lock adds its own
 * transitions to the repaired value afterwards.
 */
import type { PoolConnection, RowDataPacket } from "@rs/mysql";
import { countWrites, repairedCount, type CountChange, type CountUpdate } from "../persister/count-arithmetic.js";
import { readCounts, writeCountRows } from "../persister/count-rows.repository.js";
import { countActive } from "../persister/edge-rows.repository.js";
import type { EdgeSide } from "../persister/edge-side.js";
import { step, type ReconcileContext } from "./reconcile-context.js";
import type { FindingKind } from "./report-builder.js";

async function nextIds(db: PoolConnection, sql: string, after: number, limit: number): Promise<number[]> {
  const [rows] = await db.query<(RowDataPacket & { id: number })[]>(sql, [after, limit]);
  return rows.map((r) => Number(r.id));
}

/**
 * One keyset step over the union of two id streams (`sqlA`, `sqlB`: `… WHERE id > ? ORDER BY id LIMIT ?`):
 * the ids of both up to `bound`, the smaller of the two streams' last ids when a stream filled its
 * page (everything up to it is complete in both), Infinity when both ran out.
 */
export async function unionStep(conn: PoolConnection, sqlA: string, sqlB: string, after: number, limit: number): Promise<{ ids: number[]; bound: number }> {
  const a = await nextIds(conn, sqlA, after, limit);
  const b = await nextIds(conn, sqlB, after, limit);
  const bound = Math.min(a.length === limit ? a.at(-1)! : Infinity, b.length === limit ? b.at(-1)! : Infinity);
  const ids = [...new Set([...a, ...b])].filter((id) => id <= bound).sort((x, y) => x - y);
  return { ids, bound };
}

/** Runs `fn` in a read-only REPEATABLE READ transaction: one consistent snapshot for all its reads. */
export async function inSnapshot<T>(ctx: ReconcileContext, physical: number, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await ctx.mysql.pool(physical).getConnection();
  try {
    await conn.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    try {
      return await fn(conn);
    } finally {
      await conn.query("COMMIT");
    }
  } finally {
    conn.release();
  }
}

export async function checkCounts(ctx: ReconcileContext, physical: number, side: EdgeSide): Promise<void> {
  const kind: FindingKind = side.countName === "following" ? "following_count_wrong" : "follower_count_wrong";
  const ownersSql = `SELECT DISTINCT ${side.ownerColumn} AS id FROM ${side.table} WHERE ${side.ownerColumn} > ? ORDER BY ${side.ownerColumn} LIMIT ?`;
  const countsSql = `SELECT user_id AS id FROM ${side.countTable} WHERE user_id > ? ORDER BY user_id LIMIT ?`;
  let after = 0;
  for (;;) {
    const step1 = await inSnapshot(ctx, physical, async (conn) => {
      const { ids, bound } = await unionStep(conn, ownersSql, countsSql, after, ctx.batchRows);
      const [actual, stored] = ids.length > 0 ? await Promise.all([countActive(conn, side, ids), readCounts(conn, side, ids, false)]) : [new Map(), new Map()];
      return { ids, bound, actual, stored };
    });
    const { ids, bound, actual, stored } = step1;
    if (ids.length === 0) return;
    if (side.countName === "following") ctx.report.scanned.followingCounts += ids.length;
    else ctx.report.scanned.followerCounts += ids.length;

    const wrong = ids.filter((id) => (actual.get(id) ?? 0) !== (stored.get(id)?.value ?? 0));
    for (const id of wrong) ctx.report.find(kind, `user ${id}: stored ${stored.get(id)?.value ?? "none"}, active ${side.table} rows ${actual.get(id) ?? 0}`);
    if (wrong.length > 0 && !ctx.dryRun) {
      const changes = await ctx.txn(physical, (conn) => repairCounts(conn, side, wrong, ctx.nowMs()));
      ctx.report.fix(kind, wrong.length);
      await ctx.publish(changes);
    }
    if (bound === Infinity) return;
    after = bound;
    await step(ctx);
  }
}

/** Sets the counts of `users` to their active rows, under the count rows' locks. */
async function repairCounts(conn: PoolConnection, side: EdgeSide, users: readonly number[], nowMs: number): Promise<CountChange[]> {
  const stored = await readCounts(conn, side, users, true);
  const actual = await countActive(conn, side, users);
  const updates: CountUpdate[] = [];
  for (const user of users) {
    const next = repairedCount(stored.get(user), actual.get(user) ?? 0, nowMs);
    if (next) updates.push({ user, stored: stored.get(user), next });
  }
  const writes = countWrites(side.countName, updates, nowMs);
  await writeCountRows(conn, side, writes.existing, writes.created);
  return writes.changes;
}
