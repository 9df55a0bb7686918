/**
 * Hot profiles kept in the user process, in front of the Redis profile cache:
 * `@rs/cache`'s HotKeyCache (a sliding-window top-K over the ids asked for, an
 * LRU of the hot ones) answers a big account's profile, which every visit of
 * its page and every list it is on asks for, without a Redis round trip.
 *
 * Staleness bound: a kept profile is served for the hot-key TTL (`HOT_KEY_TTL_MS`, 1 s). A
 * change this process makes (a profile edit, a count applied here) drops it at
 * once, and a read that began before that change cannot put the older revision
 * back. Changes made by another process (the user-consumer applying counts,
 * another instance) are seen when the TTL ends. Only profiles are kept, never
 * "no such user" (a user may register a moment later on another instance).
 */
import { LRUCache } from "lru-cache";
import { hotKeyCache, type HotKeyCache, type HotKeySettings } from "@rs/cache";
import type { CachedProfile, ProfileCache, ProfileReadOptions } from "../../domain/ports.js";
import type { StoredProfile } from "../../domain/profile.js";

export interface HotProfilesObserver {
  lookups(hits: number, misses: number): void;
}

export class HotProfiles implements ProfileCache {
  private readonly hot: HotKeyCache<CachedProfile, number> | undefined;
  /**
   * Revisions of changes made here within the last TTL (as many as profiles are
   * kept): a revision older than the change's, read before it, is not kept.
   * Forgetting one early only lets an older read be kept, which the TTL still bounds.
   */
  private readonly floors: LRUCache<number, number> | undefined;

  /** With `settings.size` 0 every call goes through to `inner`. */
  constructor(
    private readonly inner: ProfileCache,
    settings: HotKeySettings,
    private readonly observer?: HotProfilesObserver,
  ) {
    this.hot = hotKeyCache<CachedProfile, number>(settings);
    const now = settings.now ?? Date.now;
    this.floors = this.hot && new LRUCache<number, number>({ max: settings.size, ttl: settings.ttlMs, ttlResolution: 0, perf: { now } });
  }

  /**
   * With `skipProcessCache` (a caller that keeps these profiles itself) the
   * kept copies are neither read, counted nor offered the answer: it is the
   * inner cache's alone.
   */
  async getMany(ids: readonly number[], options?: ProfileReadOptions): Promise<Map<number, CachedProfile>> {
    const hot = this.hot;
    if (!hot || options?.skipProcessCache) return this.inner.getMany(ids);
    const out = new Map<number, CachedProfile>();
    const ask: number[] = [];
    for (const id of ids) {
      const kept = hot.lookup(id);
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
    this.hot?.invalidate(userId);
    // a read that started before this change may finish after it: keep none older for one TTL
    this.floors?.set(userId, revision);
    await this.inner.invalidate(userId, revision);
  }

  private keep(id: number, stored: StoredProfile): void {
    const floor = this.floors?.get(id);
    if (floor !== undefined && stored.revision < floor) return;
    this.hot?.offer(id, { kind: "profile", stored });
  }
}
