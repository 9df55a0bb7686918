/**
 * The cached lists against the shards: every loaded `following:{A}` must hold
 * exactly A's active `follows` rows with the pending overlay applied, and
 * every loaded `fans:{B}` window exactly B's newest active `fans` rows down to
 * its floor. A key that does not is dropped: the next read loads it again from
 * the shards (and the overlay), which is always safe (keys are evicted all the
 * time). A write racing the comparison can only make a correct key look wrong
 * and cost one reload, never keep a wrong one.
 *
 * Run after Redis may have lost writes (restarted from an AOF that missed its
 * last second, or flushed) once the persister has caught up, and sampled by
 * the reconciler. SCAN is per node: on Redis Cluster it walks each master, or
 * only the masters named (those that lost data, redis-loss-watch.ts).
 */
import type { Redis, RedisClient } from "@rs/redis";
import type { Logger } from "@rs/logger";
import type { RelationKeys } from "../adapters/redis/relation-keys.js";
import { forEachUserKey } from "../adapters/redis/scan-user-keys.js";
import type { RelationStore } from "../domain/ports.js";
import type { PendingEntry } from "../domain/relation-transition.js";

/** Member of a loaded list key that is not a user (adapters/redis/lua/common.lua). */
const SENTINEL = "#";

export interface CachedListsDeps {
  readonly redis: RedisClient;
  readonly keys: RelationKeys;
  readonly store: Pick<RelationStore, "followingSnapshot" | "newestFans">;
  readonly pending: { pendingEntries(a: number): Promise<PendingEntry[]> };
  readonly logger: Logger;
}

export interface CachedListsReport {
  followingChecked: number;
  followingDropped: number;
  fansChecked: number;
  fansDropped: number;
}

export interface CachedListsOptions {
  /** Stop early (shutdown). */
  readonly signal?: AbortSignal;
  /** Look at about this share of the keys (0..1], for sampling; 1 = every key. */
  readonly sample?: number;
  /** Report only: keep the keys that differ. */
  readonly dryRun?: boolean;
  /** Told of each key that differs. */
  readonly onDiffer?: (kind: "following" | "fans", user: number) => void;
  /** Only the keys on these masters (default: every master). */
  readonly nodes?: readonly Redis[];
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => a.size === b.size && [...a].every((x) => b.has(x));

/** following:{A} as a fresh load would build it: active rows, then the overlay's newest transition per followee. */
async function expectedFollowing(deps: CachedListsDeps, a: number): Promise<Set<string>> {
  const [snap, pending] = await Promise.all([deps.store.followingSnapshot(a), deps.pending.pendingEntries(a)]);
  const expected = new Set(snap.rows.map((r) => String(r.to)));
  for (const e of pending) {
    if (e.action === "follow") expected.add(String(e.to));
    else expected.delete(String(e.to));
  }
  return expected;
}

/** Whether following:{A} holds what the shards and the overlay say (true when not loaded). */
export async function followingMatches(deps: CachedListsDeps, a: number): Promise<boolean> {
  const members = await deps.redis.zrange(deps.keys.following(a), 0, -1);
  if (!members.includes(SENTINEL)) return true;
  const cached = new Set(members.filter((m) => m !== SENTINEL));
  return sameSet(cached, await expectedFollowing(deps, a));
}

/** (score, id) strictly above the floor (score, id) in newest-first order. */
const above = (s: number, id: number, fs: number, fid: number) => s > fs || (s === fs && id > fid);

/** Whether the loaded fans:{B} window is B's newest active fans down to its floor (true when not loaded from the shard). */
export async function fansMatches(deps: CachedListsDeps, b: number): Promise<boolean> {
  const [loaded, floorText] = await deps.redis.hmget(deps.keys.fansVersions(b), "#l", "#f");
  if (loaded !== "1") return true;
  const flat = await deps.redis.zrange(deps.keys.fans(b), 0, -1, "WITHSCORES");
  const cached = new Set<string>();
  for (let i = 0; i < flat.length; i += 2) if (flat[i] !== SENTINEL) cached.add(flat[i]!);
  const floor = floorText ? /^(\d+):(\d+)$/.exec(floorText) : null;
  // One row more than the window holds: a fan missing from the window shows up among them.
  const rows = await deps.store.newestFans(b, cached.size + 1);
  const expected = new Set(rows.filter((r) => !floor || above(r.timeMs, r.from, Number(floor[1]), Number(floor[2]))).map((r) => String(r.from)));
  return sameSet(cached, expected);
}

/** Compares every loaded list key (or a sample) with the shards and drops the ones that differ. */
export async function checkCachedLists(deps: CachedListsDeps, options: CachedListsOptions = {}): Promise<CachedListsReport> {
  const report: CachedListsReport = { followingChecked: 0, followingDropped: 0, fansChecked: 0, fansDropped: 0 };
  const sample = options.sample ?? 1;
  const take = () => sample >= 1 || Math.random() < sample;
  const { keys, redis, logger } = deps;
  const abort = () => {
    if (options.signal?.aborted) throw new Error("cached lists check aborted");
  };
  await forEachUserKey(
    redis,
    `${keys.prefix}following:{*}`,
    async (a) => {
      abort();
      if (!take()) return false;
      report.followingChecked++;
      if (await followingMatches(deps, a)) return false;
      options.onDiffer?.("following", a);
      if (options.dryRun) return false;
      await redis.del(keys.following(a), keys.followingIndex(a));
      report.followingDropped++;
      logger.warn({ user: a }, "following:{A} differed from the shards and the pending overlay; dropped, the next read reloads it");
      return true;
    },
    options.nodes,
  );
  await forEachUserKey(
    redis,
    `${keys.prefix}fans:{*}`,
    async (b) => {
      abort();
      if (!take()) return false;
      report.fansChecked++;
      if (await fansMatches(deps, b)) return false;
      options.onDiffer?.("fans", b);
      if (options.dryRun) return false;
      // both halves go together (fans-common.lua drops a half that survived alone)
      await redis.del(keys.fans(b), keys.fansVersions(b));
      report.fansDropped++;
      logger.warn({ user: b }, "fans:{B} differed from the fans shard; dropped, the next read reloads it");
      return true;
    },
    options.nodes,
  );
  return report;
}
