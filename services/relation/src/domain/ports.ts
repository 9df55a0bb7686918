/**
 * What the relation use cases need from the outside: the Redis write front
 * (following:{A}, its pending overlay and its reads, the fans:{B} step and
 * window, the outboxes and their bound, the pending index), the shards (read side), the user service
 * and the event bus. Adapters implement these (adapters/redis, adapters/mysql,
 * adapters/user, adapters/kafka); the use cases see no Redis command and no
 * SQL, and unit tests of them stand in for the adapters with small in-memory
 * implementations (test/in-memory-ports.ts).
 */
import type { CursorPosition } from "./cursor.js";
import type { PendingEntry, RelationAction, RelationTransition } from "./relation-transition.js";

// ---- following:{A} (adapters/redis/relation-cache.ts) ----

/** One active row of `follows` for A, as read from A's shard. */
export interface FollowRow {
  readonly to: number;
  readonly timeMs: number;
  readonly version: number;
}

/** What a loader read from the shard: A's active rows and the highest version of any of A's rows. */
export interface FollowingSnapshot {
  readonly rows: readonly FollowRow[];
  readonly maxVersion: number;
}

/** A read or decision over a cached key that is not loaded: load it, then ask again. */
export type NotLoaded = { readonly status: "not_loaded" };

/** The decision on one follow/unfollow (one script over A's keys). */
export type ApplyResult =
  | { readonly status: "changed"; readonly version: number; readonly occurredAtMs: number; readonly transition: RelationTransition }
  /** Already in the asked state: success, nothing to publish. */
  | { readonly status: "noop" }
  | { readonly status: "cap_exceeded" }
  | NotLoaded;

/** An undo of a transition whose publish failed: `changed` (undone and both queued in A's outbox), or `noop` (the pair moved on). */
export type UndoResult = { readonly status: "changed"; readonly transition: RelationTransition } | { readonly status: "noop" };

/** A→B's pending transition as a request waiting on its publish sees it. */
export interface InFlightState {
  readonly entry: PendingEntry | undefined;
  /** The version whose publish Kafka acknowledged, as its publisher noted it. */
  readonly publishedVersion: number | undefined;
  /** Whether the entry waits in A's outbox (an undo: never undone itself). */
  readonly queued: boolean;
}

/** The persister kept clearing entries of this user while it was loaded; callers answer UNAVAILABLE. */
export class CacheLoadContendedError extends Error {
  constructor(userId: number, attempts: number) {
    super(`following:{${userId}} could not be loaded in ${attempts} attempts`);
    this.name = "CacheLoadContendedError";
  }
}

/** following:{A}, its version counter and its pending overlay, as the write path and the loader use them. */
export interface FollowingCache {
  /**
   * Makes sure following:{A} is loaded, reading the shard (`readDb`) at most
   * `maxReads` times (again while the persister clears A's entries in between);
   * `attempts` is how many reads it made. Beyond `maxReads`: {@link CacheLoadContendedError}.
   */
  ensureLoaded(a: number, readDb: () => Promise<FollowingSnapshot>, maxReads?: number): Promise<{ outcome: "already_loaded" | "loaded"; attempts: number }>;
  /** Decides and records A→to atomically (ADR 7). */
  applyTransition(a: number, to: number, action: RelationAction, nowMs: number, source: number, cap: number): Promise<ApplyResult>;
  /** Undoes A→to's transition `appliedVersion` by a newer opposite one, queuing both in A's outbox. */
  undoTransition(a: number, to: number, appliedVersion: number, nowMs: number): Promise<UndoResult>;
  /** Notes that Kafka acknowledged A→to's transition `version` (for requests of other instances waiting on it). */
  markPublished(a: number, to: number, version: number): Promise<void>;
  /** A→to's pending transition, the noted ack and whether it is queued. */
  inFlightState(a: number, to: number): Promise<InFlightState>;
}

// ---- reads of following:{A} (adapters/redis/following-reads.ts, through relation-cache.ts) ----

/** Part of a newest-first cached list (id and time in ms) and the cursor for the next part, undefined on the last one. */
export interface CachedSlice {
  readonly status: "ok";
  readonly items: readonly CursorPosition[];
  readonly next: CursorPosition | undefined;
}

/** A page of following:{A} with A's follow count, or `not_loaded`. */
export type PageResult = NotLoaded | (CachedSlice & { readonly total: number });

/** A followee whose follow-back could not be decided from the cache (its following:{B} is cold). */
export interface UnresolvedFriend extends CursorPosition {
  /**
   * B's unpersisted transition of B→A, if any: overlay it on the shard's answer
   * (`fans` of A, where from_user_id = B), which may not have it yet.
   */
  readonly pending: PendingEntry | undefined;
}

/** A's friends as far as the cache decides them. */
export type FriendsResult =
  | NotLoaded
  | {
      readonly status: "ok";
      /** State of the fans:{A} window used for the first pass. */
      readonly fansWindow: "complete" | "partial" | "cold";
      /** Mutual follows, newest follow of A first (timeMs = when A followed B). */
      readonly friends: readonly CursorPosition[];
      /** Followees still to check against A's fans shard (plus their pending overlay). */
      readonly unresolved: readonly UnresolvedFriend[];
    };

/** Split of candidates by whether each follows a target, as far as the cache knows. */
export interface FollowsTargetResult<T extends CursorPosition> {
  /** Candidates whose following:{B} is loaded and holds the target. */
  readonly found: T[];
  /** Candidates whose following:{B} is cold: ask the target's fans shard, with `pending` laid over it. */
  readonly unresolved: (T & { readonly pending: PendingEntry | undefined })[];
}

/** Reads of following:{A} (each `not_loaded` while A's key is cold: load it, then ask again). */
export interface FollowingReads {
  /** Does A follow B? */
  isFollowing(a: number, b: number): Promise<{ readonly status: "ok"; readonly following: boolean } | NotLoaded>;
  /** Which of `targets` A follows, in their order. */
  batchIsFollowing(a: number, targets: readonly number[]): Promise<{ readonly status: "ok"; readonly following: boolean[] } | NotLoaded>;
  /** A's follows newest first, strictly after `cursor`, with A's follow count. */
  followingPage(a: number, cursor: CursorPosition | undefined, limit: number): Promise<PageResult>;
  /**
   * The same page, with which of its items `viewer` follows when the store can
   * tell in the same read (`viewerFollows`, in the items' order); without it
   * (the viewer's list is cold, or the store cannot read both at once) ask
   * {@link FollowingReads.batchIsFollowing}.
   */
  followingPageFor(
    a: number,
    viewer: number,
    cursor: CursorPosition | undefined,
    limit: number,
  ): Promise<PageResult & { readonly viewerFollows?: readonly boolean[] }>;
  /** Every follow of A, newest first (bounded by the following cap). */
  allFollowing(a: number): Promise<{ readonly status: "ok"; readonly items: CursorPosition[] } | NotLoaded>;
  /** A's friends (mutual follows), newest follow of A first, with the follow-backs the cache could not decide. */
  friends(a: number): Promise<FriendsResult>;
  /** Which of `candidates` follow `target`, as far as their following:{B} keys know. */
  followsTarget<T extends CursorPosition>(target: number, candidates: readonly T[]): Promise<FollowsTargetResult<T>>;
}

// ---- fans:{B} (adapters/redis/fans-cache.ts) ----

/** One active row of `fans` for B. */
export interface FanRow {
  readonly from: number;
  readonly timeMs: number;
  readonly version: number;
}

/** The fans:{B} step of a transition A→B (idempotent by version; the persister repeats it). */
export interface FanSteps {
  /** Applies the step; what it did is the adapter's to report (the use cases only wait for it). */
  applyFanTransition(t: RelationTransition): Promise<unknown>;
}

/** What loading a fans:{B} window did. */
export type FansLoadResult = { readonly status: "loaded"; readonly count: number; readonly complete: boolean } | { readonly status: "already_loaded" };

/**
 * A page of the fans:{B} window, or `not_loaded`. When `next` is undefined and
 * `complete` is false, the window is exhausted: continue in the fans shard from the last item.
 */
export type FansPageResult =
  | NotLoaded
  | (CachedSlice & {
      readonly cachedCount: number;
    } & (
        | {
            /** The window holds every fan of B (`cachedCount` is B's fan count). */
            readonly complete: true;
          }
        | {
            readonly complete: false;
            /** The newest fan the window does not know (every entry it holds is above it). */
            readonly floor: CursorPosition;
          }
      ));

/** The fans:{B} window: B's newest `windowSize` fans. */
export interface FansWindowCache {
  /** N: how many of the newest fans the window keeps. */
  readonly windowSize: number;
  /** Installs the window from B's newest shard rows (one more than `windowSize` tells it B has more). */
  load(b: number, rows: readonly FanRow[]): Promise<FansLoadResult>;
  /** B's fans strictly after `cursor`, from the window. */
  fansPage(b: number, cursor: CursorPosition | undefined, limit: number): Promise<FansPageResult>;
}

// ---- outboxes (adapters/redis/relation-outbox.ts, outbox-bounds.ts) ----

/** The per-user queues of transitions waiting for Kafka after a failed publish, and their index. */
export interface TransitionOutbox {
  /** Queues a transition of `t.from` (a failed publish whose undo found nothing to undo). */
  pushOutbox(t: RelationTransition): Promise<void>;
  /** The oldest `limit` queued transitions of a user, in publish order. */
  peekOutbox(userId: number, limit: number): Promise<RelationTransition[]>;
  /** Removes published transitions (by version); how many remain. */
  ackOutbox(userId: number, versions: readonly number[]): Promise<number>;
  /** Takes a user's drain lease unless another owner holds it. */
  tryLock(userId: number, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease back if `owner` still holds it. */
  unlock(userId: number, owner: string): Promise<void>;
  /** Drops a user from the index when its outbox is empty. */
  unindexIfEmpty(userId: number): Promise<void>;
  /** Users with queued transitions, longest waiting first. */
  outboxUsers(limit: number): Promise<number[]>;
  /** Re-indexes every non-empty outbox; how many. */
  rebuildOutboxIndex(): Promise<number>;
}

/** A write refused because the outboxes are at their bound. */
export class OutboxFullError extends Error {
  constructor(
    readonly scope: "user" | "users",
    readonly limit: number,
  ) {
    super(
      scope === "user"
        ? `this user's outbox holds ${limit} unpublished entries (its bound)`
        : `${limit} users already have unpublished entries queued (the outbox bound)`,
    );
    this.name = "OutboxFullError";
  }
}

/** The outboxes' bound, checked before a write is decided. */
export interface OutboxRoom {
  /** Resolves when a failed write of `userId` could still be queued; rejects with {@link OutboxFullError} otherwise. */
  checkRoom(userId: number): Promise<void>;
}

// ---- pending index (adapters/redis/pending-index.ts) ----

/** Users claimed by one sweeper pass. */
export interface PendingClaim {
  readonly users: number[];
  /** The score the claimed users hold; pass it back to {@link PendingIndexPort.settle}. */
  readonly claimScore: string;
}

/** Which users may hold a pending transition without an event, and when to look at them (ADR 14). */
export interface PendingIndexPort {
  /** Marks A to be looked at from `dueAtMs` on (the writer, before each decision). */
  mark(a: number, dueAtMs: number): Promise<void>;
  /** Claims at most `limit` users due by `nowMs` for `leaseMs`. */
  claimDue(nowMs: number, leaseMs: number, limit: number): Promise<PendingClaim>;
  /** After a look at A: next look at `nextDueMs`, or drop A (`undefined`), unless a writer marked A since. */
  settle(a: number, claimScore: string, nextDueMs: number | undefined): Promise<boolean>;
  /** Marks every user with a pending overlay as due now; how many. */
  rebuild(nowMs: number): Promise<number>;
}

// ---- the shards, the user service, the event bus ----

/** A `fans` row of (to = B, from = fan), active or not, with its version. */
export interface FanEdge {
  readonly active: boolean;
  readonly version: number;
}

/** Reads of the sharded edge tables. */
export interface RelationStore {
  /** A's active `follows` rows and the highest version of any of A's rows. */
  followingSnapshot(a: number): Promise<FollowingSnapshot>;
  /** B's newest `count` active fans (for the fans:{B} window). */
  newestFans(b: number, count: number): Promise<FanRow[]>;
  /** B's active fans strictly after `cursor`, newest first (id = the fan). */
  fansAfter(b: number, cursor: CursorPosition | undefined, limit: number): Promise<CursorPosition[]>;
  /** B's persisted follower count. */
  followerCount(b: number): Promise<number>;
  /** The `fans` rows of B for the given fans (absent = never followed). */
  fanEdges(b: number, fans: readonly number[]): Promise<Map<number, FanEdge>>;
}

/** A user's public profile as the user service returns it. */
export interface UserProfile {
  readonly id: number;
  readonly name: string;
  readonly avatar: string;
  readonly backgroundImage: string;
  readonly signature: string;
  readonly followCount: number;
  readonly followerCount: number;
}

/** The user service, as the relation service uses it. */
export interface UserDirectory {
  /** Whether a user with this id exists. */
  exists(id: number): Promise<boolean>;
  /** Profiles of up to 100 users in ONE call; unknown ids are absent from the map. */
  profiles(ids: readonly number[]): Promise<Map<number, UserProfile>>;
  /** Drops what this process keeps of these users' profiles (their counts just changed); a directory that keeps none leaves it out. */
  forget?(ids: readonly number[]): void;
}

/**
 * Notices of profile changes made elsewhere (the user processes), for a
 * process that keeps profiles: `live` while every notice reaches it; a reset
 * says notices may have been missed (drop everything kept).
 */
export interface ProfileChangeNotices {
  readonly live: boolean;
  onChange(fn: (userId: number) => void): void;
  onReset(fn: () => void): void;
}

/** The event bus: publishes transitions, resolving only once the broker acknowledged all of them. */
export interface TransitionPublisher {
  publish(transitions: readonly RelationTransition[]): Promise<void>;
}
