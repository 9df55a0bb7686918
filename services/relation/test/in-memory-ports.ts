/**
 * Small in-memory implementations of the relation domain's ports
 * (src/domain/ports.ts), for unit tests of the use cases' decisions. They
 * keep only what those decisions depend on (follows, the pending overlay,
 * the noted acks, the outbox) and note every call in one shared log, so a
 * test can check the order of the steps. They are no model of the Redis
 * scripts: those are tested against Redis in the integration tests.
 */
import type { Logger } from "@rs/logger";
import type { CursorPosition } from "../src/domain/cursor.js";
import { pageNewestFirst } from "../src/domain/keyset-page.js";
import type {
  ApplyResult,
  FanSteps,
  FollowingCache,
  FollowingReads,
  FollowsTargetResult,
  FriendsResult,
  FollowingSnapshot,
  InFlightState,
  NotLoaded,
  PageResult,
  PendingIndexPort,
  RelationStore,
  TransitionOutbox,
  TransitionPublisher,
  UndoResult,
  UserDirectory,
} from "../src/domain/ports.js";
import { CacheLoadContendedError } from "../src/domain/ports.js";
import type { PendingEntry, RelationAction, RelationTransition } from "../src/domain/relation-transition.js";

/** The calls made to the ports, in order (`"apply 1→2 follow"`, `"publish 1→2 follow"`...). */
export type CallLog = string[];

const pair = (t: { from: number; to: number; action: RelationAction }) => `${t.from}→${t.to} ${t.action}`;
const opposite = (a: RelationAction): RelationAction => (a === "follow" ? "unfollow" : "follow");

/** Queued transitions per user. */
export class InMemoryOutbox implements TransitionOutbox {
  readonly queues = new Map<number, RelationTransition[]>();
  constructor(private readonly log: CallLog) {}

  queue(a: number): RelationTransition[] {
    let q = this.queues.get(a);
    if (!q) this.queues.set(a, (q = []));
    return q;
  }
  async pushOutbox(t: RelationTransition): Promise<void> {
    this.log.push(`outbox ${pair(t)}`);
    this.queue(t.from).push(t);
  }
  async peekOutbox(userId: number, limit: number): Promise<RelationTransition[]> {
    return this.queue(userId).slice(0, limit);
  }
  async ackOutbox(userId: number, versions: readonly number[]): Promise<number> {
    const left = this.queue(userId).filter((t) => !versions.includes(t.version));
    this.queues.set(userId, left);
    return left.length;
  }
  async tryLock(): Promise<boolean> {
    return true;
  }
  async unlock(): Promise<void> {}
  async unindexIfEmpty(): Promise<void> {}
  async outboxUsers(limit: number): Promise<number[]> {
    return [...this.queues]
      .filter(([, q]) => q.length > 0)
      .map(([a]) => a)
      .slice(0, limit);
  }
  async rebuildOutboxIndex(): Promise<number> {
    return 0;
  }
}

interface UserState {
  loaded: boolean;
  /** followee → follow time */
  readonly following: Map<number, number>;
  readonly pending: Map<number, PendingEntry>;
  /** followee → version whose ack was noted */
  readonly published: Map<number, number>;
}

/**
 * following:{A} with its pending overlay. Versions are µs like Redis TIME
 * (the writer tells an entry's age from them). `failUndo` makes the undo fail
 * like a Redis outage; `contendedReads` makes that many next loads be
 * overtaken by the persister (read again); `evictAfterLoad` drops the key
 * right after each load, before its use.
 */
export class InMemoryFollowingCache implements FollowingCache {
  private readonly users = new Map<number, UserState>();
  private lastVersion = 0;
  failUndo = false;
  contendedReads = 0;
  evictAfterLoad = false;
  /** Shard reads made by loads. */
  shardReads = 0;

  constructor(
    private readonly log: CallLog,
    private readonly outbox: InMemoryOutbox,
    private readonly now: () => number = Date.now,
  ) {}

  user(a: number): UserState {
    let u = this.users.get(a);
    if (!u) this.users.set(a, (u = { loaded: false, following: new Map(), pending: new Map(), published: new Map() }));
    return u;
  }

  isFollowing(a: number, b: number): boolean {
    return this.user(a).following.has(b);
  }

  private nextVersion(): number {
    this.lastVersion = Math.max(this.lastVersion + 1, this.now() * 1_000);
    return this.lastVersion;
  }

  async ensureLoaded(a: number, readDb: () => Promise<FollowingSnapshot>, maxReads = 5): Promise<{ outcome: "already_loaded" | "loaded"; attempts: number }> {
    const u = this.user(a);
    for (let attempt = 1; attempt <= maxReads; attempt++) {
      if (u.loaded) return { outcome: "already_loaded", attempts: attempt - 1 };
      this.shardReads++;
      const snap = await readDb();
      if (this.contendedReads > 0) {
        this.contendedReads--;
        continue;
      }
      for (const r of snap.rows) u.following.set(r.to, r.timeMs);
      u.loaded = !this.evictAfterLoad;
      this.log.push(`load ${a}`);
      return { outcome: "loaded", attempts: attempt };
    }
    throw new CacheLoadContendedError(a, maxReads);
  }

  async applyTransition(a: number, to: number, action: RelationAction, nowMs: number, source: number, cap: number): Promise<ApplyResult> {
    const u = this.user(a);
    if (!u.loaded) return { status: "not_loaded" };
    this.log.push(`apply ${a}→${to} ${action}`);
    if (u.following.has(to) === (action === "follow")) return { status: "noop" };
    if (action === "follow" && u.following.size >= cap) return { status: "cap_exceeded" };
    const prevTimeMs = u.following.get(to) ?? 0;
    if (action === "follow") u.following.set(to, nowMs);
    else u.following.delete(to);
    const version = this.nextVersion();
    u.pending.set(to, { to, action, version, timeMs: nowMs, source, prevTimeMs });
    return { status: "changed", version, occurredAtMs: nowMs, transition: { from: a, to, action, version, occurredAtMs: nowMs, source } };
  }

  async undoTransition(a: number, to: number, appliedVersion: number, nowMs: number): Promise<UndoResult> {
    this.log.push(`undo ${a}→${to}`);
    if (this.failUndo) throw new Error("connection lost");
    const u = this.user(a);
    const e = u.pending.get(to);
    if (!e || e.version !== appliedVersion) return { status: "noop" };
    const action = opposite(e.action);
    if (action === "follow") u.following.set(to, e.prevTimeMs || nowMs);
    else u.following.delete(to);
    const version = this.nextVersion();
    const undo: RelationTransition = { from: a, to, action, version, occurredAtMs: nowMs, source: e.source };
    u.pending.set(to, { to, action, version, timeMs: nowMs, source: e.source, prevTimeMs: e.timeMs });
    const q = this.outbox.queue(a);
    q.push({ from: a, to, action: e.action, version: e.version, occurredAtMs: e.timeMs, source: e.source }, undo);
    return { status: "changed", transition: undo };
  }

  async markPublished(a: number, to: number, version: number): Promise<void> {
    const u = this.user(a);
    if (u.pending.get(to)?.version === version) u.published.set(to, version);
  }

  async inFlightState(a: number, to: number): Promise<InFlightState> {
    const u = this.user(a);
    const entry = u.pending.get(to);
    const queued = entry !== undefined && (this.outbox.queues.get(a) ?? []).some((t) => t.to === to && t.version === entry.version);
    return { entry, publishedVersion: u.published.get(to), queued };
  }
}

/**
 * The reads of following:{A} over {@link InMemoryFollowingCache}'s state:
 * `not_loaded` while a user is not loaded; a candidate's follow-back is
 * decided when its following:{B} is loaded, else left unresolved with its
 * pending entry. `fansWindow` is the state friends reports for fans:{A}
 * (default cold); every read is noted in the log (`"read 1"`).
 */
export class InMemoryFollowingReads implements FollowingReads {
  fansWindow: "complete" | "partial" | "cold" = "cold";

  constructor(
    private readonly log: CallLog,
    private readonly cache: InMemoryFollowingCache,
  ) {}

  private follows(a: number): CursorPosition[] | undefined {
    this.log.push(`read ${a}`);
    const u = this.cache.user(a);
    return u.loaded ? [...u.following].map(([id, timeMs]) => ({ id, timeMs })) : undefined;
  }

  async isFollowing(a: number, b: number): Promise<{ readonly status: "ok"; readonly following: boolean } | NotLoaded> {
    const r = await this.batchIsFollowing(a, [b]);
    return r.status === "ok" ? { status: "ok", following: r.following[0] === true } : r;
  }

  async batchIsFollowing(a: number, targets: readonly number[]): Promise<{ readonly status: "ok"; readonly following: boolean[] } | NotLoaded> {
    const mine = this.follows(a);
    return mine ? { status: "ok", following: targets.map((t) => mine.some((f) => f.id === t)) } : { status: "not_loaded" };
  }

  async followingPage(a: number, cursor: CursorPosition | undefined, limit: number): Promise<PageResult> {
    const mine = this.follows(a);
    return mine ? { status: "ok", ...pageNewestFirst(mine, cursor, limit), total: mine.length } : { status: "not_loaded" };
  }

  /** Like one Redis: the viewer's follows of the page when the viewer's list is loaded (`pageReadsViewer` false: never, like a Cluster). */
  pageReadsViewer = true;

  async followingPageFor(a: number, viewer: number, cursor: CursorPosition | undefined, limit: number) {
    const page = await this.followingPage(a, cursor, limit);
    if (page.status !== "ok" || !this.pageReadsViewer) return page;
    this.log.push(`page ${a} for ${viewer}`);
    const theirs = this.cache.user(viewer);
    return theirs.loaded ? { ...page, viewerFollows: page.items.map((i) => theirs.following.has(i.id)) } : page;
  }

  async allFollowing(a: number): Promise<{ readonly status: "ok"; readonly items: CursorPosition[] } | NotLoaded> {
    const mine = this.follows(a);
    return mine ? { status: "ok", items: pageNewestFirst(mine, undefined, mine.length + 1).items as CursorPosition[] } : { status: "not_loaded" };
  }

  async friends(a: number): Promise<FriendsResult> {
    const mine = this.follows(a);
    if (!mine) return { status: "not_loaded" };
    const { found, unresolved } = await this.followsTarget(a, mine);
    return { status: "ok", fansWindow: this.fansWindow, friends: found, unresolved };
  }

  async followsTarget<T extends CursorPosition>(target: number, candidates: readonly T[]): Promise<FollowsTargetResult<T>> {
    const found: T[] = [];
    const unresolved: (T & { readonly pending: PendingEntry | undefined })[] = [];
    for (const b of candidates) {
      const u = this.cache.user(b.id);
      if (u.loaded) {
        if (u.following.has(target)) found.push(b);
      } else unresolved.push({ ...b, pending: u.pending.get(target) });
    }
    return { found, unresolved };
  }
}

/** The fans:{B} steps applied, in order. */
export class InMemoryFanSteps implements FanSteps {
  readonly applied: RelationTransition[] = [];
  constructor(private readonly log: CallLog) {}
  async applyFanTransition(t: RelationTransition): Promise<void> {
    this.log.push(`fan ${pair(t)}`);
    this.applied.push(t);
  }
}

/** Marks per user (due time). */
export class InMemoryPendingIndex implements PendingIndexPort {
  readonly due = new Map<number, number>();
  constructor(private readonly log: CallLog) {}
  async mark(a: number, dueAtMs: number): Promise<void> {
    this.log.push(`mark ${a}`);
    this.due.set(a, dueAtMs);
  }
  async claimDue(nowMs: number, leaseMs: number, limit: number) {
    const users = [...this.due]
      .filter(([, d]) => d <= nowMs)
      .map(([a]) => a)
      .slice(0, limit);
    const claimScore = `${nowMs + leaseMs}.5`;
    for (const a of users) this.due.set(a, nowMs + leaseMs + 0.5);
    return { users, claimScore };
  }
  async settle(a: number, claimScore: string, nextDueMs: number | undefined): Promise<boolean> {
    if (String(this.due.get(a)) !== claimScore) return false;
    if (nextDueMs === undefined) this.due.delete(a);
    else this.due.set(a, nextDueMs);
    return true;
  }
  async rebuild(): Promise<number> {
    return 0;
  }
}

/**
 * The event bus. Each publish takes the next scripted outcome (default: ack
 * at once): "ok", "fail", or "hold" (settled later by {@link release}).
 */
export class ScriptedPublisher implements TransitionPublisher {
  readonly outcomes: ("ok" | "fail" | "hold")[] = [];
  readonly published: RelationTransition[] = [];
  private readonly held: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private heldWaiters: (() => void)[] = [];

  constructor(private readonly log: CallLog) {}

  publish(transitions: readonly RelationTransition[]): Promise<void> {
    for (const t of transitions) this.log.push(`publish ${pair(t)}`);
    const outcome = this.outcomes.shift() ?? "ok";
    if (outcome === "ok") {
      this.published.push(...transitions);
      return Promise.resolve();
    }
    if (outcome === "fail") return Promise.reject(new Error("broker unreachable"));
    return new Promise<void>((resolve, reject) => {
      this.held.push({
        resolve: () => {
          this.published.push(...transitions);
          resolve();
        },
        reject,
      });
      for (const w of this.heldWaiters) w();
      this.heldWaiters = [];
    });
  }

  /** Resolves once a publish is held. */
  whenHeld(): Promise<void> {
    return this.held.length > 0 ? Promise.resolve() : new Promise((r) => this.heldWaiters.push(r));
  }

  /** Settles the oldest held publish. */
  release(ok: boolean): void {
    const h = this.held.shift();
    if (!h) throw new Error("no publish is held");
    if (ok) h.resolve();
    else h.reject(new Error("broker unreachable"));
  }
}

/** One row of the shards: `from` follows `to` since `timeMs` (active unless `active: false`). */
export interface ShardEdge {
  readonly from: number;
  readonly to: number;
  readonly timeMs: number;
  readonly version?: number;
  readonly active?: boolean;
}

/** Shards holding `edges` (both `follows` and `fans`); counts its reads of following rows. */
export function graphShard(edges: readonly ShardEdge[] = []): RelationStore & { followingReads: number } {
  const active = edges.filter((e) => e.active !== false);
  const fansOf = (b: number) =>
    pageNewestFirst(
      active.filter((e) => e.to === b).map((e) => ({ id: e.from, timeMs: e.timeMs })),
      undefined,
      edges.length + 1,
    ).items;
  const store = {
    followingReads: 0,
    followingSnapshot: async (a: number) => {
      store.followingReads++;
      const rows = active.filter((e) => e.from === a).map((e) => ({ to: e.to, timeMs: e.timeMs, version: e.version ?? 1 }));
      return { rows, maxVersion: Math.max(0, ...edges.filter((e) => e.from === a).map((e) => e.version ?? 1)) };
    },
    newestFans: async (b: number, count: number) =>
      fansOf(b)
        .slice(0, count)
        .map((f) => ({ from: f.id, timeMs: f.timeMs, version: 1 })),
    fansAfter: async (b: number, cursor: CursorPosition | undefined, limit: number) => [...pageNewestFirst(fansOf(b), cursor, limit).items],
    followerCount: async (b: number) => fansOf(b).length,
    fanEdges: async (b: number, fans: readonly number[]) =>
      new Map(edges.filter((e) => e.to === b && fans.includes(e.from)).map((e) => [e.from, { active: e.active !== false, version: e.version ?? 1 }])),
  };
  return store;
}

/** A shard where nobody follows anybody yet; counts its reads of following rows. */
export const emptyShard = () => graphShard();

export const everyoneExists: UserDirectory = {
  exists: async () => true,
  profiles: async () => new Map(),
};

/** A logger that keeps what it was told (level and message). */
export function recordingLogger(): { logger: Logger; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: unknown, msg?: string) => void lines.push({ level, msg: msg ?? "" });
  const logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } as unknown as Logger;
  return { logger, lines };
}
