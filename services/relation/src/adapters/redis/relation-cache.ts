/**
 * The write front of the relation service: A's follows (`following:{A}`), A's
 * version counter and persist epoch (`meta:{A}`), A's pending overlay
 * (`pending:{A}`) and A's outbox (`outbox:{A}`). Every decision is one Lua
 * script over the keys of one user. See docs/adr/0007-relation-write-path-in-redis.md.
 */
import type { Logger } from "@rs/logger";
import type { RedisClient } from "@rs/redis";
import type { CursorPosition } from "../../domain/cursor.js";
import {
  CacheLoadContendedError,
  type ApplyResult,
  type FollowsTargetResult,
  type FriendsResult,
  type FollowingCache,
  type FollowingReads,
  type FollowingSnapshot,
  type FollowRow,
  type InFlightState,
  type NotLoaded,
  type PageResult,
  type UndoResult,
} from "../../domain/ports.js";
import {
  actionCode,
  actionFromCode,
  decodePending,
  decodeTransition,
  isSource,
  isUserId,
  type PendingEntry,
  type RelationAction,
  type RelationTransition,
} from "../../domain/relation-transition.js";
import { DEFAULT_CACHE_TTL_JITTER_MS, DEFAULT_CACHE_TTL_MS, DEFAULT_EMPTY_CACHE_TTL_MS, jitteredTtlMs, loadTtlMs } from "./cache-ttl.js";
import { allFollowing, batchIsFollowing, followingCount, followingPage, followingPageFor, followsTarget, friends } from "./following-reads.js";
import { perCall, RelationScripts, type ScriptArg } from "./relation-scripts.js";
import { relationKeys, type RelationKeys } from "./relation-keys.js";
import { RelationOutbox } from "./relation-outbox.js";
import { PendingIndex } from "./pending-index.js";
import { replyArray, replyInt, replyString, UnexpectedReplyError } from "./script-replies.js";

/**
 * How often {@link RelationCache.ensureLoaded} re-reads the database when the
 * persister keeps moving, unless its caller passes its own budget (the rpc
 * service passes what is left of a request's `LOAD_SHARD_READS`).
 */
export const DEFAULT_LOAD_MAX_ATTEMPTS = 5;

// the domain's types of this cache, for callers that know only the adapter
export { CacheLoadContendedError, type ApplyResult, type FollowingSnapshot, type FollowRow, type UndoResult };

export interface RelationCacheOptions {
  /** Prefix of every key (e.g. `rs:rel:`); no braces. */
  readonly keyPrefix: string;
  readonly ttlMs?: number;
  readonly ttlJitterMs?: number;
  /** Lifetime of following:{A} loaded without rows (default {@link DEFAULT_EMPTY_CACHE_TTL_MS}). */
  readonly emptyTtlMs?: number;
  readonly loadMaxAttempts?: number;
}

export type LoadResult =
  | { readonly status: "loaded"; readonly count: number }
  | { readonly status: "already_loaded" }
  /** The persister cleared pending entries after the caller read the epoch: read the database again. */
  | { readonly status: "retry"; readonly epoch: string };

/**
 * Warns when Redis's encoding limits do not cover a following list at `cap`:
 * big lists then take a skiplist's memory (about 130 B per edge instead of 31)
 * or an index without its intset; they still work (docs/adr/0019-compact-following-lists.md).
 */
export async function checkFollowingLayout(redis: RedisClient, cap: number, logger: Logger): Promise<void> {
  const read = async (name: string) => {
    try {
      const r = (await redis.config("GET", name)) as string[];
      const n = Number(r[1]);
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  };
  for (const name of ["zset-max-listpack-entries", "set-max-intset-entries"]) {
    const limit = await read(name);
    // the list holds its sentinel beside the cap's follows
    if (limit === undefined) logger.info({ setting: name, cap }, "could not read a Redis encoding limit; make sure it is above FOLLOWING_CAP");
    else if (limit < cap + 1) logger.warn({ setting: name, limit, cap }, "Redis encoding limit below FOLLOWING_CAP + 1: big following lists take more memory");
  }
}

function assertId(name: string, v: number): void {
  if (!isUserId(v)) throw new RangeError(`${name} must be a positive safe integer, got ${v}`);
}
function assertTime(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer (unix ms), got ${v}`);
}

export class RelationCache implements FollowingCache, FollowingReads {
  readonly keys: RelationKeys;
  readonly outbox: RelationOutbox;
  readonly pendingIndex: PendingIndex;
  private readonly scripts: RelationScripts;
  private readonly ttlMs: number;
  private readonly ttlJitterMs: number;
  private readonly emptyTtlMs: number;
  private readonly loadMaxAttempts: number;

  constructor(
    private readonly redis: RedisClient,
    opts: RelationCacheOptions,
  ) {
    this.keys = relationKeys(opts.keyPrefix);
    this.scripts = new RelationScripts(redis);
    this.outbox = new RelationOutbox(redis, this.keys, this.scripts);
    this.pendingIndex = new PendingIndex(redis, this.keys, this.scripts);
    this.ttlMs = opts.ttlMs ?? DEFAULT_CACHE_TTL_MS;
    this.ttlJitterMs = opts.ttlJitterMs ?? DEFAULT_CACHE_TTL_JITTER_MS;
    this.emptyTtlMs = opts.emptyTtlMs ?? DEFAULT_EMPTY_CACHE_TTL_MS;
    this.loadMaxAttempts = opts.loadMaxAttempts ?? DEFAULT_LOAD_MAX_ATTEMPTS;
  }

  private ttl(): number {
    return jitteredTtlMs(this.ttlMs, this.ttlJitterMs);
  }

  private userKeys(a: number): string[] {
    return [this.keys.following(a), this.keys.meta(a), this.keys.pending(a)];
  }

  /** Whether following:{A} is loaded, and the persist epoch to hand to {@link load} (read it BEFORE the database). */
  async readState(a: number): Promise<{ loaded: boolean; epoch: string }> {
    assertId("user id", a);
    const r = replyArray("readState", await this.scripts.run("readState", [this.keys.following(a), this.keys.meta(a), this.keys.followingIndex(a)]));
    return { loaded: replyInt("readState", r[0]) === 1, epoch: replyString("readState", r[1]) };
  }

  /**
   * Installs following:{A} from shard rows plus the pending overlay, unless it is
   * already loaded or the persist epoch moved since `epochSeen` (then `retry`).
   */
  async load(a: number, rows: readonly FollowRow[], dbMaxVersion: number, epochSeen: string): Promise<LoadResult> {
    assertId("user id", a);
    // loaded empty (maybe not a user at all): short-lived, so arbitrary ids do not fill Redis for a day
    const ttl = loadTtlMs(rows.length, { ttlMs: this.ttlMs, ttlJitterMs: this.ttlJitterMs, emptyTtlMs: this.emptyTtlMs });
    const args: ScriptArg[] = [epochSeen, dbMaxVersion, ttl];
    for (const r of rows) {
      assertId("row to", r.to);
      assertTime("row time", r.timeMs);
      args.push(r.to, r.timeMs, r.version);
    }
    const keys = [...this.userKeys(a), this.keys.followingIndex(a), this.keys.followingTmp(a)];
    const r = replyArray("loadFollowing", await this.scripts.run("loadFollowing", keys, args));
    switch (r[0]) {
      case "LOADED":
        return { status: "loaded", count: replyInt("loadFollowing", r[1]) };
      case "ALREADY_LOADED":
        return { status: "already_loaded" };
      case "RETRY":
        return { status: "retry", epoch: replyString("loadFollowing", r[1]) };
      default:
        throw new UnexpectedReplyError("loadFollowing", r);
    }
  }

  /**
   * Makes sure following:{A} is loaded: epoch, then the database, then load;
   * again while the persister moved the epoch in between. Callers wrap this in
   * singleflight per user. `attempts` counts database reads, at most
   * `maxReads` (default: the cache's `loadMaxAttempts`).
   */
  async ensureLoaded(
    a: number,
    readDb: () => Promise<FollowingSnapshot>,
    maxReads: number = this.loadMaxAttempts,
  ): Promise<{ outcome: "already_loaded" | "loaded"; attempts: number }> {
    for (let attempt = 1; attempt <= maxReads; attempt++) {
      const state = await this.readState(a);
      if (state.loaded) return { outcome: "already_loaded", attempts: attempt - 1 };
      const snap = await readDb();
      const r = await this.load(a, snap.rows, snap.maxVersion, state.epoch);
      if (r.status === "loaded") return { outcome: "loaded", attempts: attempt };
      if (r.status === "already_loaded") return { outcome: "already_loaded", attempts: attempt };
    }
    throw new CacheLoadContendedError(a, maxReads);
  }

  /**
   * Decides and applies one follow/unfollow of A→to atomically: `not_loaded`
   * (load, then call again), `noop` (idempotent success, nothing to publish),
   * `cap_exceeded`, or `changed` with the new version, recorded pending.
   */
  async applyTransition(a: number, to: number, action: RelationAction, nowMs: number, source: number, cap: number): Promise<ApplyResult> {
    assertId("from", a);
    assertId("to", to);
    assertTime("nowMs", nowMs);
    if (!isSource(source)) throw new RangeError(`source must be an int32, got ${source}`);
    if (!Number.isSafeInteger(cap) || cap < 0) throw new RangeError(`cap must be a non-negative integer, got ${cap}`);
    const keys = [...this.userKeys(a), this.keys.followingIndex(a)];
    const reply = await this.scripts.run("applyTransition", keys, [to, actionCode(action), nowMs, source, cap, this.ttl()]);
    const r = replyArray("applyTransition", reply);
    switch (r[0]) {
      case "CHANGED": {
        const version = replyInt("applyTransition", r[1]);
        const occurredAtMs = replyInt("applyTransition", r[2]);
        const transition = { from: a, to, action, version, occurredAtMs, source: replyInt("applyTransition", r[3]) };
        return { status: "changed", version, occurredAtMs, transition };
      }
      case "NOOP":
        return { status: "noop" };
      case "CAP_EXCEEDED":
        return { status: "cap_exceeded" };
      case "NOT_LOADED":
        return { status: "not_loaded" };
      default:
        throw new UnexpectedReplyError("applyTransition", r);
    }
  }

  /**
   * Undoes A→to's transition `appliedVersion` after its publish failed: only if
   * that is still the pair's pending transition, by the opposite transition with
   * a new version, recorded pending and queued in A's outbox atomically, right
   * after the failed transition itself (its send may not have reached Kafka).
   * The outbox drainer publishes both and acknowledges them (docs/adr/0010).
   */
  async undoTransition(a: number, to: number, appliedVersion: number, nowMs: number): Promise<UndoResult> {
    assertId("from", a);
    assertId("to", to);
    assertTime("nowMs", nowMs);
    const keys = [...this.userKeys(a), this.keys.outbox(a), this.keys.followingIndex(a)];
    const r = replyArray("undoTransition", await this.scripts.run("undoTransition", keys, [a, to, appliedVersion, nowMs, this.ttl()]));
    if (r[0] === "NOOP") return { status: "noop" };
    if (r[0] !== "CHANGED") throw new UnexpectedReplyError("undoTransition", r);
    const transition: RelationTransition = {
      from: a,
      to,
      action: actionFromCode(replyString("undoTransition", r[1])),
      version: replyInt("undoTransition", r[2]),
      occurredAtMs: replyInt("undoTransition", r[3]),
      source: replyInt("undoTransition", r[4]),
    };
    await this.outbox.index(a);
    return { status: "changed", transition };
  }

  /**
   * The persister's compare-and-delete after writing to the shard: removes each
   * entry that still holds the given version, and moves the persist epoch on if
   * any went.
   */
  async clearPending(a: number, written: readonly { to: number; version: number }[]): Promise<{ cleared: number; epoch: string }> {
    assertId("user id", a);
    const r = await this.runClearPending([[a, written]]);
    return { cleared: replyInt("clearPending", r[0]), epoch: replyString("clearPending", r[1]) };
  }

  /**
   * {@link clearPending} of many users' entries (`from` owns each) in a few
   * script calls instead of one per user: the persister's, after a chunk
   * committed. Returns how many entries went.
   */
  async clearPendingMany(written: readonly { from: number; to: number; version: number }[]): Promise<number> {
    for (const w of written) assertId("user id", w.from);
    const calls = perCall(
      this.redis,
      written.map((w) => w.from),
      (a) => this.keys.pending(a),
    );
    const replies = await Promise.all(calls.map((call) => this.runClearPending([...call].map(([a, indexes]) => [a, indexes.map((i) => written[i]!)]))));
    let cleared = 0;
    for (const r of replies) for (let i = 0; i < r.length; i += 2) cleared += replyInt("clearPending", r[i]);
    return cleared;
  }

  /** One clear-pending call over the users' keys (one slot on a cluster); the reply is {cleared, epoch} per user, flat. */
  private async runClearPending(users: readonly (readonly [number, readonly { to: number; version: number }[]])[]): Promise<unknown[]> {
    const keys: string[] = [];
    const args: ScriptArg[] = [];
    for (const [a, entries] of users) {
      keys.push(this.keys.pending(a), this.keys.meta(a));
      args.push(this.ttl(), entries.length);
      for (const w of entries) args.push(w.to, w.version);
    }
    const r = replyArray("clearPending", await this.scripts.run("clearPending", keys, args));
    if (r.length !== 2 * users.length) throw new UnexpectedReplyError("clearPending", r);
    return r;
  }

  /** Notes that Kafka acknowledged A→to's pending transition `version` (see mark-published.lua). */
  async markPublished(a: number, to: number, version: number): Promise<void> {
    await this.scripts.run("markPublished", [this.keys.pending(a), this.keys.meta(a)], [to, version]);
  }

  /**
   * A→to's pending transition, whether its publisher noted Kafka's ack of it,
   * and whether it waits in A's outbox (an undo: published by the outbox
   * drainer until it goes out, never undone itself).
   */
  async inFlightState(a: number, to: number): Promise<InFlightState> {
    const [raw, published, outbox] = await Promise.all([
      this.redis.hget(this.keys.pending(a), String(to)),
      this.redis.hget(this.keys.meta(a), `p:${to}`),
      this.redis.lrange(this.keys.outbox(a), 0, -1),
    ]);
    const entry = raw === null ? undefined : decodePending(to, raw);
    const queued = entry !== undefined && outbox.some((text) => text.startsWith(`${a}|${to}|`) && decodeTransition(text).version === entry.version);
    return { entry, publishedVersion: published === null ? undefined : Number(published), queued };
  }

  /** A→to's unpersisted transition, if any. */
  async pendingEntry(a: number, to: number): Promise<PendingEntry | undefined> {
    const raw = await this.redis.hget(this.keys.pending(a), String(to));
    return raw === null ? undefined : decodePending(to, raw);
  }

  /** A's unpersisted transitions, one per followee. */
  async pendingEntries(a: number): Promise<PendingEntry[]> {
    const raw = await this.redis.hgetall(this.keys.pending(a));
    return Object.entries(raw).map(([to, v]) => decodePending(Number(to), v));
  }

  /** Does A follow B? */
  isFollowing(a: number, b: number): Promise<{ readonly status: "ok"; readonly following: boolean } | NotLoaded> {
    assertId("to", b);
    return batchIsFollowing(this.scripts, this.keys, a, [b]).then((r) => (r.status === "ok" ? { status: "ok", following: r.following[0] === true } : r));
  }

  /** Which of `targets` (≤ 1000) A follows, in their order; one script (ZMSCORE or, on a big list, SMISMEMBER), one round trip. */
  batchIsFollowing(a: number, targets: readonly number[]) {
    return batchIsFollowing(this.scripts, this.keys, a, targets);
  }

  /** A's follows newest first, strictly after `cursor`, with A's follow count. */
  followingPage(a: number, cursor: CursorPosition | undefined, limit: number): Promise<PageResult> {
    return followingPage(this.scripts, this.keys, a, cursor, limit);
  }

  followingPageFor(a: number, viewer: number, cursor: CursorPosition | undefined, limit: number) {
    return followingPageFor(this.redis, this.scripts, this.keys, a, viewer, cursor, limit);
  }

  /** How many users A follows (cap-bounded, exact while loaded). */
  count(a: number): Promise<{ readonly status: "ok"; readonly count: number } | NotLoaded> {
    return followingCount(this.scripts, this.keys, a);
  }

  /** A's friends (mutual follows), newest follow of A first; see {@link friends} for what is exact. */
  friends(a: number): Promise<FriendsResult> {
    return friends(this.redis, this.scripts, this.keys, a);
  }

  /** Every follow of A, newest first (bounded by the following cap). */
  allFollowing(a: number): Promise<{ readonly status: "ok"; readonly items: CursorPosition[] } | NotLoaded> {
    return allFollowing(this.scripts, this.keys, a);
  }

  /** Which of `candidates` follow `target`, as far as their following:{B} keys know; see {@link followsTarget}. */
  followsTarget<T extends CursorPosition>(target: number, candidates: readonly T[]): Promise<FollowsTargetResult<T>> {
    return followsTarget(this.redis, this.keys, target, candidates);
  }
}
