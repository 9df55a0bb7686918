/**
 * fans:{B}: the newest N fans of B, a gap-free prefix of B's newest-first fan
 * list (big accounts have millions; deeper pages come from the fans shard).
 *
 * Updated by its own step per transition A→B, after following:{A} changed: a
 * different slot, so not in the same script. Steps carry A's version and the
 * window keeps a version per member (tombstones for unfollows), so applying a
 * transition twice, or an older one after a newer one, changes nothing. A step
 * on a cold window is recorded anyway, and a shard load merges into it by
 * version, so a load that read the shard before a transition was persisted
 * cannot drop it. Run the step again from the persister after it commits the
 * fans shard (it is idempotent): that repairs a step lost to a crash.
 */
import type { RedisClient } from "@rs/redis";
import type { CursorPosition } from "../../domain/cursor.js";
import type { FanRow, FanSteps, FansLoadResult, FansPageResult, FansWindowCache } from "../../domain/ports.js";
import { actionCode, isUserId, type RelationTransition } from "../../domain/relation-transition.js";
import { DEFAULT_CACHE_TTL_JITTER_MS, DEFAULT_CACHE_TTL_MS, DEFAULT_EMPTY_CACHE_TTL_MS, jitteredTtlMs, loadTtlMs } from "./cache-ttl.js";
import { pageArgs, toPage } from "./following-reads.js";
import { perCall, RelationScripts, type ScriptArg } from "./relation-scripts.js";
import { relationKeys, type RelationKeys } from "./relation-keys.js";
import { replyArray, replyEntries, replyInt, replyString, UnexpectedReplyError } from "./script-replies.js";

/** Fans kept per user by default: a few pages of the newest, cheap for millions of users. */
export const DEFAULT_FANS_WINDOW = 1_000;
/**
 * Unfollow tombstones kept per window by default. They only need to outlive
 * the reordering of steps (seconds); pruning more eagerly turns late steps into
 * window reloads.
 */
export const DEFAULT_FANS_TOMBSTONES = 1_000;

export interface FansCacheOptions {
  readonly keyPrefix: string;
  /** N: how many of the newest fans are kept. */
  readonly windowSize?: number;
  /** Unfollow tombstones kept before the oldest are pruned. */
  readonly tombstoneLimit?: number;
  readonly ttlMs?: number;
  readonly ttlJitterMs?: number;
  /** Lifetime of a window loaded empty (default {@link DEFAULT_EMPTY_CACHE_TTL_MS}). */
  readonly emptyTtlMs?: number;
}

export type { FanRow };

export type FanStepResult =
  | "applied"
  | "duplicate"
  | "stale"
  /** A follow older than the window's floor: not in the newest N, nothing to keep. */
  | "ignored"
  /** Could not be decided (its tombstone was pruned): the window was dropped and reloads from the shard. */
  | "invalidated";

const STEP_RESULTS: Record<string, FanStepResult> = {
  APPLIED: "applied",
  DUPLICATE: "duplicate",
  STALE: "stale",
  IGNORED: "ignored",
  INVALIDATED: "invalidated",
};

export class FansCache implements FanSteps, FansWindowCache {
  readonly keys: RelationKeys;
  readonly windowSize: number;
  private readonly tombstoneLimit: number;
  private readonly scripts: RelationScripts;
  private readonly ttlMs: number;
  private readonly ttlJitterMs: number;
  private readonly emptyTtlMs: number;

  constructor(
    private readonly redis: RedisClient,
    opts: FansCacheOptions,
  ) {
    this.keys = relationKeys(opts.keyPrefix);
    this.scripts = new RelationScripts(redis);
    this.windowSize = opts.windowSize ?? DEFAULT_FANS_WINDOW;
    this.tombstoneLimit = opts.tombstoneLimit ?? DEFAULT_FANS_TOMBSTONES;
    if (!Number.isSafeInteger(this.windowSize) || this.windowSize <= 0) throw new RangeError(`windowSize must be a positive integer`);
    if (!Number.isSafeInteger(this.tombstoneLimit) || this.tombstoneLimit < 2) throw new RangeError(`tombstoneLimit must be an integer ≥ 2`);
    this.ttlMs = opts.ttlMs ?? DEFAULT_CACHE_TTL_MS;
    this.ttlJitterMs = opts.ttlJitterMs ?? DEFAULT_CACHE_TTL_JITTER_MS;
    this.emptyTtlMs = opts.emptyTtlMs ?? DEFAULT_EMPTY_CACHE_TTL_MS;
  }

  private slot(b: number): string[] {
    if (!isUserId(b)) throw new RangeError(`user id must be a positive safe integer, got ${b}`);
    return [this.keys.fans(b), this.keys.fansVersions(b)];
  }

  /** The fans step of one transition (from = the fan, to = the followed user B). */
  async applyFanTransition(t: RelationTransition): Promise<FanStepResult> {
    this.check(t);
    return (await this.runSteps([[t.to, [t]]]))[0]!;
  }

  /**
   * The fans steps of many transitions in a few script calls instead of one
   * per transition (by hash slot of B on a cluster): the persister's, after a
   * chunk committed. Each step does what {@link applyFanTransition} would;
   * the results come in the order of `ts`.
   */
  async applyFanTransitions(ts: readonly RelationTransition[]): Promise<FanStepResult[]> {
    for (const t of ts) this.check(t);
    const results: FanStepResult[] = new Array<FanStepResult>(ts.length);
    const calls = perCall(
      this.redis,
      ts.map((t) => t.to),
      (b) => this.keys.fans(b),
    );
    await Promise.all(
      calls.map(async (call) => {
        const byB = [...call].map(([b, indexes]) => [b, indexes.map((i) => ts[i]!)] as const);
        const r = await this.runSteps(byB);
        let n = 0;
        for (const indexes of call.values()) for (const i of indexes) results[i] = r[n++]!;
      }),
    );
    return results;
  }

  private check(t: RelationTransition): void {
    if (!isUserId(t.from)) throw new RangeError(`from must be a positive safe integer, got ${t.from}`);
    if (!isUserId(t.to)) throw new RangeError(`user id must be a positive safe integer, got ${t.to}`);
  }

  /** One fans-apply call over the users B (one slot on a cluster), each with its steps in order; the results in the same order. */
  private async runSteps(byB: readonly (readonly [number, readonly RelationTransition[]])[]): Promise<FanStepResult[]> {
    const keys: string[] = [];
    const args: ScriptArg[] = [this.windowSize, this.tombstoneLimit];
    let steps = 0;
    for (const [b, ts] of byB) {
      keys.push(this.keys.fans(b), this.keys.fansVersions(b));
      args.push(jitteredTtlMs(this.ttlMs, this.ttlJitterMs), ts.length);
      for (const t of ts) args.push(t.from, actionCode(t.action), t.version, t.occurredAtMs);
      steps += ts.length;
    }
    const r = replyArray("fansApply", await this.scripts.run("fansApply", keys, args));
    if (r.length !== steps) throw new UnexpectedReplyError("fansApply", r);
    return r.map((v) => {
      const step = STEP_RESULTS[replyString("fansApply", v)];
      if (!step) throw new UnexpectedReplyError("fansApply", v);
      return step;
    });
  }

  /**
   * Loads the window from the shard: pass B's newest `windowSize + 1` active fan
   * rows (fewer when B has fewer), ordered any way; one row more than the window
   * is how the script learns that B has more fans than it keeps.
   */
  async load(b: number, rows: readonly FanRow[]): Promise<FansLoadResult> {
    // no fans (maybe not a user at all): short-lived, so arbitrary ids do not fill Redis for a day
    const ttl = loadTtlMs(rows.length, { ttlMs: this.ttlMs, ttlJitterMs: this.ttlJitterMs, emptyTtlMs: this.emptyTtlMs });
    const args: (string | number)[] = [this.windowSize, this.tombstoneLimit, ttl];
    for (const row of rows) {
      if (!isUserId(row.from) || !Number.isSafeInteger(row.timeMs) || row.timeMs <= 0) throw new RangeError("fan rows need positive ids and times");
      args.push(row.from, row.timeMs, row.version);
    }
    const r = replyArray("fansLoad", await this.scripts.run("fansLoad", this.slot(b), args));
    if (r[0] === "ALREADY_LOADED") return { status: "already_loaded" };
    if (r[0] !== "LOADED") throw new UnexpectedReplyError("fansLoad", r);
    return { status: "loaded", count: replyInt("fansLoad", r[1]), complete: replyInt("fansLoad", r[2]) === 1 };
  }

  /** B's fans newest first, strictly after `cursor`, from the window. */
  async fansPage(b: number, cursor: CursorPosition | undefined, limit: number): Promise<FansPageResult> {
    const r = replyArray("fansPage", await this.scripts.run("fansPage", this.slot(b), pageArgs(cursor, limit)));
    if (r[0] === "NOT_LOADED") return { status: "not_loaded" };
    if (r[0] !== "OK") throw new UnexpectedReplyError("fansPage", r);
    const cachedCount = replyInt("fansPage", r[2]);
    const page = toPage("fansPage", replyEntries("fansPage", r, 3), limit, cachedCount);
    if (page.status !== "ok") throw new UnexpectedReplyError("fansPage", r);
    if (r[1] === 1) return { status: "ok", items: page.items, next: page.next, complete: true, cachedCount };
    const floor = typeof r[1] === "string" ? /^(\d+):(\d+)$/.exec(r[1]) : null;
    if (!floor) throw new UnexpectedReplyError("fansPage", r);
    return { status: "ok", items: page.items, next: page.next, complete: false, cachedCount, floor: { timeMs: Number(floor[1]), id: Number(floor[2]) } };
  }
}
