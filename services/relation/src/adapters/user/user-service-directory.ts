/**
 * The user service seen from the relation service: existence checks (UserExists,
 * which has the user service's Bloom filter in front) and profile hydration
 * (BatchGetUsers; the pages hydrated in one turn of the event loop share one
 * call, docs/adr/0022). Users are never deleted, so an id once known to
 * exist is remembered in process for a while: most follows then cost no call.
 * Unknown ids are not remembered here (a user may register a moment later); the
 * user service's Bloom filter makes asking about them cheap.
 *
 * Profiles of hot users (a page of a big account's fans, a celebrity in many
 * following lists) are kept in process for a short, bounded time: a
 * sliding-window top-K decides which ids are hot, and only the rest of a page
 * is asked for. A kept profile is at most the hot-key TTL older than the
 * user service's answer (its counts lag the shards by the count pipeline's own
 * lag anyway); a follow or unfollow through this process drops both users'
 * profiles at once ({@link forget}).
 *
 * Kept profiles are refreshed ahead of their TTL: one asked for since it was
 * loaded is reloaded in the background at 70 % of its TTL, gathered with the
 * other such ids into BatchGetUsers of up to 100 (docs/adr/0025). So the
 * profiles in use do not expire under the pages that list them: those pages
 * never wait on the user service, and the reloads cost a few full calls a
 * second instead of a small call for nearly every page.
 *
 * With change notices (docs/adr/0028) a kept profile is dropped as soon as
 * the user processes announce a change to it, so it may be kept longer
 * (`PROFILE_HOT_TTL_MS`) and reloaded far less often. Profiles are kept only
 * while the notices are live; when they stop everything kept is dropped, and
 * an answer to a load that started before a notice (or a reset) is served to
 * its page but not kept.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { status } from "@grpc/grpc-js";
import { LRUCache } from "lru-cache";
import { BatchCoalescer, hotKeyCache, type HotKeyCache, type HotKeySettings } from "@rs/cache";
import { isStatusError, unavailable } from "@rs/errors";
import type { ServiceClient } from "@rs/grpc";
import { BATCH_GET_USERS_MAX, type userV1 } from "@rs/idl";
import { callDeadline } from "@rs/logger";
import type { ProfileChangeNotices, UserDirectory, UserProfile } from "../../domain/ports.js";
import { profileOf } from "../../domain/user-profile.js";
import { relationMetrics } from "../../relation.metrics.js";

const hotHit = relationMetrics.cacheLookups.labels("hot_profile", "hit");
const hotMiss = relationMetrics.cacheLookups.labels("hot_profile", "miss");

/** A kept profile asked for since it was loaded is reloaded in the background at this share of its TTL. */
export const REFRESH_AT_TTL_SHARE = 0.7;
/** Due reloads are gathered this long, then sent together (in BatchGetUsers of up to 100 ids). */
export const REFRESH_GATHER_MS = 100;

export interface UserDirectoryOptions {
  /** Ids known to exist kept in process. */
  readonly existsCacheSize: number;
  /** How long such an id is trusted. */
  readonly existsCacheTtlMs: number;
  /** Hot users' profiles kept in process (size 0: none). */
  readonly hotProfiles: HotKeySettings;
  /** Pages hydrated in one turn of the event loop share one BatchGetUsers (default true). */
  readonly coalesce?: boolean;
  /** Kept profiles are reloaded in the background before their TTL ends (default true). */
  readonly refreshAhead?: boolean;
  /** A background reload failed (it is not retried: the profiles leave when their TTL ends). */
  readonly onRefreshError?: (err: unknown) => void;
  /** Changes made elsewhere: kept profiles are dropped on each, and kept only while they are live. */
  readonly changes?: ProfileChangeNotices;
}

/**
 * The user service not answering within this service's deadline for it is an
 * outage of a dependency: UNAVAILABLE to our caller (its own deadline has not
 * passed), not a timeout of its call.
 */
async function answered<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (isStatusError(err) && err.code === status.DEADLINE_EXCEEDED) throw unavailable("the user service did not answer in time; retry");
    throw err;
  }
}

export class UserServiceDirectory implements UserDirectory {
  private readonly known: LRUCache<number, true>;
  private readonly hot: HotKeyCache<UserProfile, number> | undefined;
  /** The pages hydrated in one turn of the event loop share one BatchGetUsers. */
  private readonly batches: BatchCoalescer<number, UserProfile>;
  /** Runs the background reloads outside any caller's context (its deadline, its trace). */
  private readonly detached = AsyncLocalStorage.snapshot();
  /** A background reload is under way (one at a time; ids due meanwhile wait for the next). */
  private refreshing = false;
  /** Counts changes and resets, so a load can tell whether one came after it started. */
  private changeSeq = 0;
  private resetSeq = 0;
  /** The changeSeq of each recent change, as many as profiles are kept (forgetting one early only lets a load that started before it be kept, which the TTL still bounds). */
  private readonly changedSeq: LRUCache<number, number>;

  constructor(
    private readonly client: ServiceClient<userV1.UserServiceClient>,
    private readonly opts: UserDirectoryOptions,
  ) {
    this.known = new LRUCache<number, true>({ max: opts.existsCacheSize, ttl: opts.existsCacheTtlMs });
    const refreshAfterMs = opts.refreshAhead === false ? undefined : Math.max(1, Math.floor(opts.hotProfiles.ttlMs * REFRESH_AT_TTL_SHARE));
    this.hot = hotKeyCache<UserProfile, number>({ ...opts.hotProfiles, refreshAfterMs });
    this.changedSeq = new LRUCache<number, number>({ max: Math.max(1, opts.hotProfiles.size) });
    opts.changes?.onChange((id) => this.forget([id]));
    opts.changes?.onReset(() => {
      this.resetSeq = ++this.changeSeq;
      this.hot?.clear();
    });
    this.batches = new BatchCoalescer((ids) => this.fetch(ids), {
      // one key per load when off: every page is a call of its own
      maxKeys: opts.coalesce === false ? 1 : BATCH_GET_USERS_MAX,
      deadlineOf: callDeadline,
    });
  }

  /** Hits and misses of the hot-profile cache since start (zero when it is off). */
  get profileCacheStats(): { hits: number; misses: number } {
    return this.hot?.stats ?? { hits: 0, misses: 0 };
  }

  async exists(id: number): Promise<boolean> {
    if (this.known.get(id)) return true;
    const { exists } = await answered(this.client.userExists({ userId: id }));
    if (exists) this.known.set(id, true);
    return exists;
  }

  async profiles(ids: readonly number[]): Promise<Map<number, UserProfile>> {
    const out = new Map<number, UserProfile>();
    const ask: number[] = [];
    for (const id of ids) {
      const kept = this.hot?.lookup(id);
      if (kept) out.set(id, kept);
      else ask.push(id);
    }
    if (this.hot) {
      // one increment per page, not per profile
      if (out.size > 0) hotHit.inc(out.size);
      if (ask.length > 0) hotMiss.inc(ask.length);
      this.refreshDue(this.hot);
    }
    if (ask.length === 0) return out;
    const found = await this.batches.get(ask);
    for (const id of ask) {
      const p = found.get(id);
      if (p) out.set(id, p);
    }
    return out;
  }

  private async fetch(ids: number[]): Promise<Map<number, UserProfile>> {
    const startedAt = this.changeSeq;
    // this process keeps the hot ones itself: the user service's own copies would only add their age to ours
    const { users } = await answered(this.client.batchGetUsers({ userIds: ids, skipProcessCache: true }));
    const keep = this.hot !== undefined && (this.opts.changes?.live ?? true) && startedAt >= this.resetSeq;
    const found = new Map<number, UserProfile>();
    for (const u of users) {
      this.known.set(u.id, true);
      const p = profileOf(u);
      found.set(u.id, p);
      // an answer that may predate a change announced since the load started is served, not kept
      if (keep && (this.changedSeq.peek(u.id) ?? 0) <= startedAt) this.hot?.offer(u.id, p);
    }
    return found;
  }

  /** Sends the reloads of the due kept profiles once the oldest has waited {@link REFRESH_GATHER_MS}: all of them, off the caller's path. */
  private refreshDue(hot: HotKeyCache<UserProfile, number>): void {
    if (this.refreshing) return;
    const waited = hot.dueForMs();
    if (waited === undefined || waited < REFRESH_GATHER_MS) return;
    const ids = hot.takeDue();
    if (ids.length === 0) return;
    this.refreshing = true;
    // one call at a time: the reloads are spread out instead of landing on the user service (and on this loop) at once
    const reload = async () => {
      for (let i = 0; i < ids.length; i += BATCH_GET_USERS_MAX) {
        await this.fetch(ids.slice(i, i + BATCH_GET_USERS_MAX)).catch((err: unknown) => this.opts.onRefreshError?.(err));
      }
    };
    void this.detached(reload).finally(() => {
      this.refreshing = false;
    });
  }

  forget(ids: readonly number[]): void {
    for (const id of ids) {
      this.changedSeq.set(id, ++this.changeSeq);
      this.hot?.invalidate(id);
    }
  }
}
