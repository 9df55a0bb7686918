/**
 * The pending overlay (`pending:{A}` in Redis) against `follows`. SCAN walks
 * the overlay keys in bounded steps; each user's entries (at most the
 * following cap) are compared with A's rows:
 *
 * - the row already has that version or a newer one: the entry is stale (the
 *   persister's compare-and-delete was lost), so it is cleared the same way;
 * - the entry is newer than the row and older than the grace period: its
 *   transition was acknowledged in Redis but its event never got persisted, so
 *   it goes through every step the persister runs for an event: both shards
 *   (the newer version wins), the pending overlay cleared, the fans:{B} step,
 *   and count.changed for the counts it moved. (The relation service's pending
 *   sweeper republishes such entries within seconds; this is the backstop.)
 *
 * On Redis Cluster, run it against each master (SCAN is per node).
 */
import { masterNodes, type RedisClient } from "@rs/redis";
import type { RelationCache } from "../adapters/redis/relation-cache.js";
import { pendingToTransition } from "../domain/pending-sweeper.js";
import { isUserId, type PendingEntry } from "../domain/relation-transition.js";
import type { EdgeEvent } from "../persister/edge-fold.js";
import { readEdgeRows } from "../persister/edge-rows.repository.js";
import { FOLLOWS_SIDE } from "../persister/edge-side.js";
import type { RelationPersister } from "../persister/relation-persister.js";
import { isRecent, ReconcileAbortedError, step, type ReconcileContext } from "./reconcile-context.js";

/** Versions are microseconds of Redis's clock at the latest (ADR 0007): an upper bound of when the entry was made. */
const US_PER_MS = 1_000;
/**
 * Keys SCAN examines per step at least. SCAN walks the whole keyspace (other
 * key kinds, other prefixes) to find the overlay keys, so a step as small as a
 * database keyset step would make the walk needlessly long; a step returns at
 * most about this many keys, which still bounds memory.
 */
const MIN_SCAN_COUNT = 1_000;

export interface PendingCheckDeps {
  readonly redis: RedisClient;
  readonly cache: Pick<RelationCache, "pendingEntries" | "clearPending" | "keys">;
  readonly persister: Pick<RelationPersister, "writeShards" | "afterCommit">;
}

function userOfKey(key: string): number | undefined {
  const id = Number(/\{(\d+)\}$/.exec(key)?.[1]);
  return isUserId(id) ? id : undefined;
}

async function checkUser(ctx: ReconcileContext, deps: PendingCheckDeps, a: number): Promise<void> {
  let entries: PendingEntry[];
  try {
    entries = await deps.cache.pendingEntries(a);
  } catch (err) {
    ctx.logger.error({ err, user: a }, "unreadable pending overlay; left alone");
    return;
  }
  if (entries.length === 0) return;
  ctx.report.scanned.pendingUsers++;
  ctx.report.scanned.pendingEntries += entries.length;
  const rows = await readEdgeRows(
    ctx.mysql.poolFor(a),
    FOLLOWS_SIDE,
    entries.map((e) => [a, e.to] as const),
    false,
  );
  const stale: PendingEntry[] = [];
  const unpersisted: PendingEntry[] = [];
  for (const e of entries) {
    const row = rows.get(`${a}:${e.to}`);
    if (row && row.version >= e.version) {
      stale.push(e);
      ctx.report.find("pending_stale", `pending:{${a}} ${e.to} v${e.version} ${e.action}; follows has v${row.version}`);
    } else if (isRecent(ctx, Math.floor(e.version / US_PER_MS))) {
      ctx.report.skippedRecent++;
    } else {
      unpersisted.push(e);
      ctx.report.find("pending_unpersisted", `pending:{${a}} ${e.to} v${e.version} ${e.action}; follows has ${row ? `v${row.version}` : "no row"}`);
    }
  }
  if (ctx.dryRun) return;
  if (unpersisted.length > 0) {
    const events = unpersisted.map((e): EdgeEvent => pendingToTransition(a, e));
    const written = await deps.persister.writeShards(events);
    await deps.persister.afterCommit(events, written);
    await ctx.publish(written.counts);
    ctx.report.fix("pending_unpersisted", unpersisted.length);
  }
  if (stale.length > 0) {
    await deps.cache.clearPending(
      a,
      stale.map((e) => ({ to: e.to, version: e.version })),
    );
    ctx.report.fix("pending_stale", stale.length);
  }
}

export async function checkPending(ctx: ReconcileContext, deps: PendingCheckDeps): Promise<void> {
  const match = `${deps.cache.keys.prefix}pending:{*}`;
  // SCAN is per node: on Redis Cluster walk every master
  for (const node of masterNodes(deps.redis)) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", match, "COUNT", Math.max(ctx.batchRows, MIN_SCAN_COUNT));
      cursor = next;
      for (const key of keys) {
        const a = userOfKey(key);
        if (a !== undefined) await checkUser(ctx, deps, a);
      }
      // pause only after real work: most steps of a big keyspace match nothing
      if (keys.length > 0) await step(ctx);
      else if (ctx.signal?.aborted) throw new ReconcileAbortedError();
    } while (cursor !== "0");
  }
}
