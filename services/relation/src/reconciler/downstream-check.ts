/**
 * The copies of the counts against the shards' authoritative counts, on one
 * shard and one count name: the count service's `counters` or the users'
 * redundant columns (downstream-stores.ts) vs `following_counts` /
 * `follower_counts` (themselves checked against the edges by count-check.ts).
 *
 * Users are streamed in id order from the union of those with a nonzero count
 * on the shards and those with a nonzero copy (two keyset streams, `batchRows`
 * each: bounded memory), both read in one snapshot of the shard. A copy
 * diverges when its value differs, or when its version is above the shards'
 * (every later count.changed would be ignored by it).
 *
 * One version rule, the consumers': the shards' count row is the source of
 * every version, and a copy takes a value only with a newer version.
 * - A copy behind the shards' row gets the row's value at the row's version,
 *   exactly the count.changed it missed. Younger than the grace period, that
 *   record may still be on its way: left alone.
 * - A copy at or above the row's version with another value cannot take the
 *   row's version: the row's version is first raised past the copy's under the
 *   row's lock (the persister's next change of that count goes above it again,
 *   as it locks the row too), then published and written to the copy.
 * Writes go through the consumers' own paths, so a consumer that applied a
 * newer value meanwhile keeps it.
 */
import type { RowDataPacket } from "@rs/mysql";
import { countWrites, raisedCount, type CountChange } from "../persister/count-arithmetic.js";
import { readCounts, writeCountRows } from "../persister/count-rows.repository.js";
import type { EdgeSide } from "../persister/edge-side.js";
import { chunks, type Queryable } from "../persister/sql-chunks.js";
import { inSnapshot, unionStep } from "./count-check.js";
import type { CopiedCount, DownstreamCountStore } from "./downstream-stores.js";
import { isRecent, step, type ReconcileContext } from "./reconcile-context.js";

interface ShardCount extends CopiedCount {
  readonly updatedAt: number;
}

async function readShardCounts(conn: Queryable, side: EdgeSide, users: readonly number[]): Promise<Map<number, ShardCount>> {
  const out = new Map<number, ShardCount>();
  for (const part of chunks(users)) {
    const [rows] = await conn.query<(RowDataPacket & { id: number; value: number; version: number; updated_at: number })[]>(
      `SELECT user_id AS id, ${side.countColumn} AS value, version, updated_at FROM ${side.countTable} WHERE user_id IN (?)`,
      [part],
    );
    for (const r of rows) out.set(Number(r.id), { value: Number(r.value), version: Number(r.version), updatedAt: Number(r.updated_at) });
  }
  return out;
}

export async function checkDownstream(ctx: ReconcileContext, physical: number, side: EdgeSide, store: DownstreamCountStore): Promise<void> {
  const name = side.countName;
  const kind = store.kinds[name];
  const shardSql = `SELECT user_id AS id FROM ${side.countTable} WHERE user_id > ? AND ${side.countColumn} <> 0 ORDER BY user_id LIMIT ?`;
  const copySql = store.nonzeroIdsSql(name);
  let after = 0;
  let scanned = 0;
  let written = 0;
  for (;;) {
    const { ids, bound, shard, copies } = await inSnapshot(ctx, physical, async (conn) => {
      const { ids, bound } = await unionStep(conn, shardSql, copySql, after, ctx.batchRows);
      if (ids.length === 0) return { ids, bound, shard: new Map<number, ShardCount>(), copies: new Map<number, CopiedCount>() };
      const [shard, copies] = await Promise.all([readShardCounts(conn, side, ids), store.read(conn, name, ids)]);
      return { ids, bound, shard, copies };
    });
    scanned += ids.length;
    if (store.check === "counters") ctx.report.scanned.counters += ids.length;
    else ctx.report.scanned.profiles += ids.length;

    const behind: CountChange[] = [];
    const raise = new Map<number, number>();
    for (const id of ids) {
      const s = shard.get(id) ?? { value: 0, version: 0, updatedAt: 0 };
      const copy = copies.get(id);
      if (!copy && store.needsRow) continue;
      const c = copy ?? { value: 0, version: 0 };
      const ahead = shard.has(id) && c.version > s.version;
      if (c.value === s.value && !ahead) continue;
      if (c.version < s.version && isRecent(ctx, s.updatedAt)) {
        ctx.report.skippedRecent++;
        continue;
      }
      ctx.report.find(kind, `user ${id} ${store.check}: ${copy ? `${c.value} (v${c.version})` : "no row"}, shards ${s.value} (v${s.version})`);
      if (c.version < s.version) behind.push({ userId: id, name, value: s.value, version: s.version });
      else raise.set(id, c.version);
    }
    if (!ctx.dryRun && behind.length + raise.size > 0) {
      const raised = raise.size > 0 ? await ctx.txn(physical, (conn) => raiseVersions(conn, side, raise, ctx.nowMs())) : [];
      await store.apply([...behind, ...raised]);
      // The shards' rows changed version: the other copies and any other consumer hear of it too.
      if (raised.length > 0) await ctx.publish(raised);
      ctx.report.fix(kind, behind.length + raise.size);
      written += behind.length + raise.size;
    }
    const through = bound === Infinity ? (ids.at(-1) ?? after) : bound;
    ctx.progress?.({ check: store.check, name, physical, through, scanned, written });
    if (bound === Infinity) return;
    after = bound;
    await step(ctx);
  }
}

/**
 * Raises the version of the shards' count rows of `copyVersions`' users past
 * their copies' versions (and past every version published before: the clock
 * in µs), under the rows' locks; the value stays what the row holds then.
 */
async function raiseVersions(conn: Queryable, side: EdgeSide, copyVersions: ReadonlyMap<number, number>, nowMs: number): Promise<CountChange[]> {
  const users = [...copyVersions.keys()];
  const stored = await readCounts(conn, side, users, true);
  const updates = users.map((user) => ({ user, stored: stored.get(user), next: raisedCount(stored.get(user), copyVersions.get(user)!, nowMs) }));
  const writes = countWrites(side.countName, updates, nowMs);
  await writeCountRows(conn, side, writes.existing, writes.created);
  return writes.changes;
}
