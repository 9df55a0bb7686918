/**
 * `follows` against `fans`: streams one side of one shard in primary-key order
 * (keyset steps of `batchRows`), looks each step's edges up on the other side
 * (grouped by the shard that holds them) and repairs a missing or older row by
 * copying the newer one through the persister's own write path, so the counts
 * beside the repaired rows move by exactly the transitions the copy makes.
 *
 * Scanning `follows` finds every kind of difference of edges it holds;
 * scanning `fans` is only needed for edges missing from `follows`.
 */
import type { EdgeEvent } from "../persister/edge-fold.js";
import { applySide } from "../persister/apply-side.js";
import type { KeyedEdgeRow } from "../persister/edge-fold.js";
import { readEdgeRows, scanEdgeRows } from "../persister/edge-rows.repository.js";
import { FANS_SIDE, FOLLOWS_SIDE, type EdgeSide } from "../persister/edge-side.js";
import { isRecent, step, type ReconcileContext } from "./reconcile-context.js";
import type { FindingKind } from "./report-builder.js";

interface Repair {
  readonly kind: FindingKind;
  readonly event: EdgeEvent;
}

/** The edge (from, to) of a row of `side`. */
function edgeOf(side: EdgeSide, r: KeyedEdgeRow): { from: number; to: number } {
  return side === FOLLOWS_SIDE ? { from: r.owner, to: r.other } : { from: r.other, to: r.owner };
}

/** A transition that makes the other side's row an exact copy of `r`. */
function copyOf(side: EdgeSide, r: KeyedEdgeRow, replace: boolean): EdgeEvent {
  return {
    ...edgeOf(side, r),
    action: r.status === 1 ? "follow" : "unfollow",
    version: r.version,
    occurredAtMs: r.updatedAtMs,
    source: r.source,
    listedAtMs: r.createdAtMs,
    ...(replace ? { replace: true } : {}),
  };
}

const describe = (side: EdgeSide, r: KeyedEdgeRow) => {
  const { from, to } = edgeOf(side, r);
  return `${from}→${to} v${r.version} ${r.status === 1 ? "active" : "inactive"} (${side.table})`;
};

const sameContent = (a: KeyedEdgeRow, b: KeyedEdgeRow) => a.status === b.status && a.createdAtMs === b.createdAtMs && a.source === b.source;

/** Decides the repair (if any) for row `r` of the scanned side and its counterpart `c`. */
function decide(scanned: EdgeSide, other: EdgeSide, r: KeyedEdgeRow, c: KeyedEdgeRow | undefined): { repair?: Repair; targetSide?: EdgeSide } {
  const fromFollows = scanned === FOLLOWS_SIDE;
  if (!c) return { repair: { kind: fromFollows ? "fans_missing" : "follows_missing", event: copyOf(scanned, r, false) }, targetSide: other };
  if (!fromFollows) return {}; // both rows exist: the follows scan judges them
  if (c.version < r.version) return { repair: { kind: "fans_stale", event: copyOf(scanned, r, false) }, targetSide: other };
  if (c.version > r.version) return { repair: { kind: "follows_stale", event: copyOf(other, c, false) }, targetSide: scanned };
  if (!sameContent(r, c)) return { repair: { kind: "edge_conflict", event: copyOf(scanned, r, true) }, targetSide: other };
  return {};
}

/** Checks every row of `scanned` on one physical shard against the other side. */
export async function checkEdges(ctx: ReconcileContext, physical: number, scanned: EdgeSide): Promise<void> {
  const other = scanned === FOLLOWS_SIDE ? FANS_SIDE : FOLLOWS_SIDE;
  const pool = ctx.mysql.pool(physical);
  let after: [number, number] = [0, 0];
  for (;;) {
    const rows = await scanEdgeRows(pool, scanned, after, ctx.batchRows);
    if (rows.length === 0) return;
    const last = rows.at(-1)!;
    after = [last.owner, last.other];
    if (scanned === FOLLOWS_SIDE) ctx.report.scanned.followsRows += rows.length;
    else ctx.report.scanned.fansRows += rows.length;

    // The counterpart of (owner, other) is (other, owner) on the other side, in other's shard.
    const byShard = ctx.mysql.groupByShard(rows, (r) => r.other);
    const repairs = new Map<EdgeSide, Map<number, Repair[]>>([
      [FOLLOWS_SIDE, new Map()],
      [FANS_SIDE, new Map()],
    ]);
    for (const [q, group] of byShard) {
      const counterparts = await readEdgeRows(
        ctx.mysql.pool(q),
        other,
        group.map((r) => [r.other, r.owner] as const),
        false,
      );
      for (const r of group) {
        const c = counterparts.get(`${r.other}:${r.owner}`);
        const { repair, targetSide } = decide(scanned, other, r, c);
        if (!repair || !targetSide) continue;
        if (isRecent(ctx, repair.event.occurredAtMs)) {
          ctx.report.skippedRecent++;
          continue;
        }
        ctx.report.find(repair.kind, `${describe(scanned, r)} vs ${c ? describe(other, c) : "missing"}`);
        const target = targetSide.owner(repair.event);
        const shard = ctx.mysql.physicalOf(target);
        const perShard = repairs.get(targetSide)!;
        perShard.set(shard, [...(perShard.get(shard) ?? []), repair]);
      }
    }
    if (!ctx.dryRun) await applyRepairs(ctx, repairs);
    await step(ctx);
  }
}

async function applyRepairs(ctx: ReconcileContext, repairs: Map<EdgeSide, Map<number, Repair[]>>): Promise<void> {
  for (const [side, perShard] of repairs) {
    for (const [shard, list] of perShard) {
      const out = await ctx.txn(shard, (conn) =>
        applySide(
          conn,
          side,
          list.map((r) => r.event),
          ctx.nowMs(),
        ),
      );
      for (const r of list) ctx.report.fix(r.kind);
      await ctx.publish(out.counts);
    }
  }
}
