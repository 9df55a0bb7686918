/**
 * Hot profiles kept in the user process, in front of the Redis profile cache:
 * `@rs/cache`'s HotKeyCache (a sliding-window top-K over the ids asked for, an
 * LRU of the hot ones) answers a big account's profile, which every visit of
 * its page and every list it is on asks for, without a Redis round trip.
 *
 * Staleness bound: a kept profile is served for `ttlMs` (1 s by default). A
 * change this process makes (a profile edit, a count applied here) drops it at
 * once, and a read that began before that change cannot put the older revision
 * back. Changes made by another process (the user-consumer applying counts,
 * another instance) are seen when the TTL ends. Only profiles are kept, never
 * "no such user" (a user may register a moment later on another instance).
 */
import { HotKeyCache } from "@rs/cache";
import type { CachedProfile, ProfileCache } from "../../domain/ports.js";
import type { StoredProfile } from "../../domain/profile.js";

export interface HotProfilesOptions {
  /** Profiles kept at most (0: off). */
  readonly size: number;
  /** How long a kept profile is served: the staleness bound. */
  readonly ttlMs: number;
  /** Times within the 10 s window an id must be asked for to be kept. */
  readonly minHits: number;
  readonly now?: () => number;
}

export interface HotProfilesObserver {
  lookups(hits: number, misses: number): void;
}

const WINDOW_MS = 10_000;
const WINDOW_BUCKETS = 10;

export class HotProfiles implements ProfileCache {
  private readonly hot: HotKeyCache<CachedProfile, number>;
  /** Revisions of changes made here recently: a revision older than the change's, read before it, is not kept. */
  private readonly floors = new Map<number, { revision: number; untilMs: number }>();
  private readonly now: () => number;

  constructor(
    private readonly inner: ProfileCache,
    private readonly opts: HotProfilesOptions,
    private readonly observer?: HotProfilesObserver,
  ) {
    this.now = opts.now ?? Date.now;
    this.hot = new HotKeyCache<CachedProfile, number>({
      maxEntries: opts.size,
      ttlMs: opts.ttlMs,
      windowMs: WINDOW_MS,
      buckets: WINDOW_BUCKETS,
      minHits: opts.minHits,
      now: this.now,
    });
  }

  async getMany(ids: readonly number[]): Promise<Map<number, CachedProfile>> {
    const out = new Map<number, CachedProfile>();
    const ask: number[] = [];
    for (const id of ids) {
      const kept = this.hot.lookup(id);
      if (kept) out.set(id, kept);
      else ask.push(id);
    }
    this.observer?.lookups(ids.length - ask.length, ask.length);
    if (ask.length === 0) return out;
    for (const [id, cached] of await this.inner.getMany(ask)) {
      out.set(id, cached);
      if (cached.kind === "profile") this.keep(id, cached.stored);
    }
    return out;
  }

  async fill(found: readonly StoredProfile[], missing: readonly number[]): Promise<void> {
    await this.inner.fill(found, missing);
    for (const s of found) this.keep(s.profile.id, s);
  }

  async invalidate(userId: number, revision: number): Promise<void> {
    this.hot.invalidate(userId);
    // a read that started before this change may finish after it: keep none older for one TTL
    this.floors.delete(userId);
    this.floors.set(userId, { revision, untilMs: this.now() + this.opts.ttlMs });
    this.boundFloors();
    await this.inner.invalidate(userId, revision);
  }

  /**
   * At most `size` floors: expired ones go first, then the oldest (a dropped
   * floor only lets an older read be kept, which the TTL still bounds).
   */
  private boundFloors(): void {
    if (this.floors.size <= this.opts.size) return;
    const now = this.now();
    for (const [id, f] of this.floors) if (f.untilMs <= now) this.floors.delete(id);
    for (const id of this.floors.keys()) {
      if (this.floors.size <= this.opts.size) break;
      this.floors.delete(id);
    }
  }

  private keep(id: number, stored: StoredProfile): void {
    const floor = this.floors.get(id);
    if (floor) {
      if (floor.untilMs <= this.now()) this.floors.delete(id);
      else if (stored.revision < floor.revision) return;
    }
    this.hot.offer(id, { kind: "profile", stored });
  }
}

/** The profile cache of the user service: `inner` alone, or behind hot profiles when `opts.size` > 0. */
export function withHotProfiles(inner: ProfileCache, opts: HotProfilesOptions, observer?: HotProfilesObserver): ProfileCache {
  return opts.size > 0 ? new HotProfiles(inner, opts, observer) : inner;
}
