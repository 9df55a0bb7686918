/**
 * Reads over following:{A} (and, for friends, fans:{A}). Each answers
 * `not_loaded` when following:{A} is cold; the caller loads it and asks again.
 */
import { BATCH_IS_FOLLOWING_MAX } from "@rs/idl";
import { execAcrossSlots, type RedisClient } from "@rs/redis";
import type { CursorPosition } from "../../domain/cursor.js";
import type { FollowsTargetResult, FriendsResult, NotLoaded, PageResult } from "../../domain/ports.js";
import { decodePending, isUserId, type PendingEntry } from "../../domain/relation-transition.js";
import { commandName, type RelationScripts } from "./relation-scripts.js";
import { joinIds } from "./id-list.js";
import type { RelationKeys } from "./relation-keys.js";
import { replyArray, replyEntries, replyInt, replyString, UnexpectedReplyError } from "./script-replies.js";

/** Largest page a list read returns. */
export const MAX_PAGE_LIMIT = 1_000;
/** Must match SENTINEL in lua/common.lua. */
export const SENTINEL = "#";

/**
 * The arguments every page script takes (following-page, following-page-for,
 * fans-page): hasCursor, the cursor's time and id, and one entry more than the
 * page, which tells whether there is a next one.
 */
export function pageArgs(cursor: CursorPosition | undefined, limit: number): number[] {
  if (!Number.isInteger(limit) || limit <= 0 || limit > MAX_PAGE_LIMIT) throw new RangeError(`limit must be 1..${MAX_PAGE_LIMIT}, got ${limit}`);
  return cursor ? [1, cursor.timeMs, cursor.id, limit + 1] : [0, 0, 0, limit + 1];
}

export async function batchIsFollowing(
  scripts: RelationScripts,
  keys: RelationKeys,
  a: number,
  targets: readonly number[],
): Promise<{ readonly status: "ok"; readonly following: boolean[] } | NotLoaded> {
  if (!isUserId(a)) throw new RangeError(`user id must be a positive safe integer, got ${a}`);
  if (targets.length === 0) throw new RangeError("at least one target");
  if (targets.length > BATCH_IS_FOLLOWING_MAX) throw new RangeError(`at most ${BATCH_IS_FOLLOWING_MAX} targets, got ${targets.length}`);
  if (!targets.every(isUserId)) throw new RangeError("targets must be positive safe integers");
  // One script answers "loaded?" and every membership, from following:{A} or, for a big list, its index. The ids
  // go as one argument (ioredis's cost grows with their number); a small list comes back whole and is looked up
  // here, else the answer is one string of flags.
  const r = await scripts.run("isFollowing", [keys.following(a), keys.followingIndex(a)], [joinIds(targets), targets.length]);
  if (r === null) return { status: "not_loaded" };
  const following = new Array<boolean>(targets.length);
  if (Array.isArray(r)) {
    const members = new Set<number>();
    for (const m of r) members.add(Number(m)); // the sentinel is NaN, which no target is
    for (let i = 0; i < targets.length; i++) following[i] = members.has(targets[i]!);
  } else {
    if (typeof r !== "string" || r.length !== targets.length) throw new UnexpectedReplyError("isFollowing", r);
    for (let i = 0; i < r.length; i++) following[i] = r.charCodeAt(i) === ONE;
  }
  return { status: "ok", following };
}

/** A flag of is-following.lua's reply: "1" followed, "0" not. */
const ONE = "1".charCodeAt(0);

export async function followingPage(
  scripts: RelationScripts,
  keys: RelationKeys,
  a: number,
  cursor: CursorPosition | undefined,
  limit: number,
): Promise<PageResult> {
  if (!isUserId(a)) throw new RangeError(`user id must be a positive safe integer, got ${a}`);
  const r = replyArray("followingPage", await scripts.run("followingPage", [keys.following(a)], pageArgs(cursor, limit)));
  if (r[0] === "NOT_LOADED") return { status: "not_loaded" };
  if (r[0] !== "OK") throw new UnexpectedReplyError("followingPage", r);
  return toPage("followingPage", replyEntries("followingPage", r, 2), limit, replyInt("followingPage", r[1]));
}

/**
 * A's page and, in the same round trip, which of its items `viewer` follows
 * (`viewerFollows`, in the items' order). One script reads both users' lists,
 * so this runs only on a single Redis: on a Cluster their keys are in two
 * slots, and the page comes alone. `viewerFollows` is also left out when the
 * viewer's list is cold; the caller then asks {@link batchIsFollowing}, which
 * loads it.
 */
export async function followingPageFor(
  redis: RedisClient,
  scripts: RelationScripts,
  keys: RelationKeys,
  a: number,
  viewer: number,
  cursor: CursorPosition | undefined,
  limit: number,
): Promise<PageResult & { readonly viewerFollows?: readonly boolean[] }> {
  if (redis.isCluster) return followingPage(scripts, keys, a, cursor, limit);
  if (!isUserId(a) || !isUserId(viewer)) throw new RangeError(`user ids must be positive safe integers, got ${a} and ${viewer}`);
  const keysOfBoth = [keys.following(a), keys.following(viewer), keys.followingIndex(viewer)];
  const r = replyArray("followingPageFor", await scripts.run("followingPageFor", keysOfBoth, pageArgs(cursor, limit)));
  if (r[0] === "NOT_LOADED") return { status: "not_loaded" };
  if (r[0] !== "OK") throw new UnexpectedReplyError("followingPageFor", r);
  const page = toPage("followingPageFor", replyEntries("followingPageFor", r, 3), limit, replyInt("followingPageFor", r[1]));
  if (page.status !== "ok" || r[2] === null) return page;
  const flags = replyString("followingPageFor", r[2]);
  if (flags.length !== (r.length - 3) / 2) throw new UnexpectedReplyError("followingPageFor", r);
  return { ...page, viewerFollows: page.items.map((_, i) => flags[i] === "1") };
}

/** Cuts the `limit + 1` entries a script returned into a page and its next cursor. */
export function toPage(script: string, entries: CursorPosition[], limit: number, total: number): PageResult {
  const items = entries.slice(0, limit);
  const last = items[items.length - 1];
  if (entries.length > limit + 1) throw new UnexpectedReplyError(script, entries.length);
  return { status: "ok", items, next: entries.length > limit && last ? { timeMs: last.timeMs, id: last.id } : undefined, total };
}

export async function followingCount(
  scripts: RelationScripts,
  keys: RelationKeys,
  a: number,
): Promise<{ readonly status: "ok"; readonly count: number } | NotLoaded> {
  if (!isUserId(a)) throw new RangeError(`user id must be a positive safe integer, got ${a}`);
  const n = replyInt("followingCount", await scripts.run("followingCount", [keys.following(a)]));
  return n < 0 ? { status: "not_loaded" } : { status: "ok", count: n };
}

const WINDOW_STATES = { COMPLETE: "complete", PARTIAL: "partial", COLD: "cold" } as const;

/**
 * Friends of A = A's follows B for which B→A holds, in two round trips:
 * 1. one script over A's slot: following:{A} against the fans:{A} window. A
 *    followee in the window follows A back; when the window is complete (A has
 *    at most N fans) the rest do not, and the answer is exact.
 * 2. otherwise, for each undecided B, `following:{B}` (which includes B's
 *    pending overlay, so it is exact) and, in case it is cold, B's pending entry
 *    for A; the cold ones come back as `unresolved` for one query of A's fans
 *    shard (`from_user_id IN (...)`) with the pending entry laid over it.
 * Bounded by the following cap. The window trails following:{B} by the fans
 * step, so a follow-back made a moment ago may show a moment later.
 */
export async function friends(redis: RedisClient, scripts: RelationScripts, keys: RelationKeys, a: number): Promise<FriendsResult> {
  if (!isUserId(a)) throw new RangeError(`user id must be a positive safe integer, got ${a}`);
  const r = replyArray("friendCandidates", await scripts.run("friendCandidates", [keys.following(a), keys.fans(a), keys.fansVersions(a)]));
  if (r[0] === "NOT_LOADED") return { status: "not_loaded" };
  const state = WINDOW_STATES[replyString("friendCandidates", r[1]) as keyof typeof WINDOW_STATES];
  if (r[0] !== "OK" || !state) throw new UnexpectedReplyError("friendCandidates", r);

  const sure: CursorPosition[] = [];
  const undecided: CursorPosition[] = [];
  for (let i = 2; i + 2 < r.length; i += 3) {
    const entry = { id: replyInt("friendCandidates", r[i]), timeMs: replyInt("friendCandidates", r[i + 1]) };
    (replyInt("friendCandidates", r[i + 2]) === 1 ? sure : undecided).push(entry);
  }
  const { found, unresolved } = await followsTarget(redis, keys, a, undecided);
  // both lists are newest-first; merge keeps that order
  const all = [...sure, ...found].sort((x, y) => y.timeMs - x.timeMs || y.id - x.id);
  return { status: "ok", fansWindow: state, friends: all, unresolved };
}

/**
 * Which of `candidates` follow `target`: per candidate, following:{B} (exact
 * while loaded, it includes B's overlay) and, for a cold key, B's pending entry
 * for the target. One pipeline, one round trip, whatever the number of candidates
 * (on a Cluster one per node: the candidates' keys are in many slots).
 */
export async function followsTarget<T extends CursorPosition>(
  redis: RedisClient,
  keys: RelationKeys,
  target: number,
  candidates: readonly T[],
): Promise<FollowsTargetResult<T>> {
  if (!isUserId(target)) throw new RangeError(`user id must be a positive safe integer, got ${target}`);
  const found: T[] = [];
  const unresolved: (T & { pending: PendingEntry | undefined })[] = [];
  if (candidates.length === 0) return { found, unresolved };
  const me = String(target);
  // the is-following script (defined on this client by RelationScripts) per candidate, with B's pending entry
  const isFollowing = commandName("isFollowing");
  const replies = await execAcrossSlots(redis, (pipe) => {
    const run = (pipe as unknown as Record<string, (...args: string[]) => unknown>)[isFollowing];
    if (typeof run !== "function") throw new Error(`script ${isFollowing} is not defined on this client`);
    for (const b of candidates) {
      run.call(pipe, keys.following(b.id), keys.followingIndex(b.id), me, "1");
      pipe.hget(keys.pending(b.id), me);
    }
  });
  candidates.forEach((b, i) => {
    const [flagsErr, flags] = replies[2 * i] ?? [new UnexpectedReplyError("followsTarget", null), null];
    const [pendingErr, pending] = replies[2 * i + 1] ?? [new UnexpectedReplyError("followsTarget", null), null];
    if (flagsErr) throw flagsErr;
    if (pendingErr) throw pendingErr;
    if (flags !== null && flags !== "0" && flags !== "1") throw new UnexpectedReplyError("isFollowing", flags);
    if (flags !== null) {
      if (flags === "1") found.push(b);
    } else {
      unresolved.push({ ...b, pending: pending === null || pending === undefined ? undefined : decodePending(target, pending as string) });
    }
  });
  return { found, unresolved };
}

/**
 * Every follow of A, newest first, in pages of {@link MAX_PAGE_LIMIT} (the
 * following cap bounds the number of round trips).
 */
export async function allFollowing(
  scripts: RelationScripts,
  keys: RelationKeys,
  a: number,
): Promise<{ readonly status: "ok"; readonly items: CursorPosition[] } | NotLoaded> {
  const items: CursorPosition[] = [];
  let cursor: CursorPosition | undefined;
  for (;;) {
    const page = await followingPage(scripts, keys, a, cursor, MAX_PAGE_LIMIT);
    if (page.status !== "ok") return page;
    items.push(...page.items);
    if (!page.next) return { status: "ok", items };
    cursor = page.next;
  }
}
