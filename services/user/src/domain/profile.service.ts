/**
 * Profile reads (one, a batch, existence) through the Redis cache.
 *
 * A read asks the cache once (one MGET for the whole batch); what it lacks
 * comes from the shards with one query per shard, shared with every concurrent
 * read of the same ids (singleflight), and is written back to the cache without
 * making the caller wait. Unknown ids are cached as such, briefly.
 */
import { Singleflight } from "@rs/cache";
import { notFound } from "@rs/errors";
import type { Logger } from "@rs/logger";
import type { CachedProfile, ExistenceFilter, ProfileCache, ProfileReadOptions, UserStore } from "./ports.js";
import type { Profile, StoredProfile } from "./profile.js";
import { checkUserId, checkUserIds } from "./user-input.js";
import { throttledWarning } from "../throttled-warning.js";
import { countProfileLookup } from "../user.metrics.js";

export interface ProfileServiceDeps {
  readonly store: UserStore;
  readonly cache: ProfileCache;
  readonly existence: ExistenceFilter;
  readonly logger: Logger;
}

/** BatchGetUsers' answer: the profiles found in request order, and the ids that are not users. */
export interface ProfileBatch {
  readonly users: readonly Profile[];
  readonly missingUserIds: readonly number[];
}

function countLookups(hits: number, negativeHits: number, misses: number): void {
  countProfileLookup("hit", hits);
  countProfileLookup("negative_hit", negativeHits);
  countProfileLookup("miss", misses);
}

export class ProfileService {
  private readonly loads = new Singleflight<number, StoredProfile | null>();
  private readonly warnCacheDown: (err: unknown) => void;
  private readonly warnWriteBack: (err: unknown) => void;

  constructor(private readonly deps: ProfileServiceDeps) {
    this.warnCacheDown = throttledWarning(deps.logger, "profile cache unavailable; reading the shards");
    this.warnWriteBack = throttledWarning(deps.logger, "profile cache write-back failed");
  }

  /** One profile; NOT_FOUND for an id that is not a user. */
  async getUser(userId: number): Promise<Profile> {
    checkUserId(userId);
    const found = await this.lookup([userId]);
    const stored = found.get(userId);
    if (!stored) throw notFound(`user ${userId} not found`);
    return stored.profile;
  }

  /** Up to 100 profiles in the order asked; unknown ids are listed, not an error. */
  async batchGetUsers(userIds: readonly number[], options?: ProfileReadOptions): Promise<ProfileBatch> {
    checkUserIds(userIds);
    const found = await this.lookup(userIds, options);
    const users: Profile[] = [];
    const missingUserIds: number[] = [];
    for (const id of userIds) {
      const stored = found.get(id);
      if (stored) users.push(stored.profile);
      else missingUserIds.push(id);
    }
    return { users, missingUserIds };
  }

  /**
   * Whether `userId` is a user. The bloom filter answers "no" on its own (that
   * answer is certain); a "probably" is confirmed by the cache or the shard.
   */
  async userExists(userId: number): Promise<boolean> {
    checkUserId(userId);
    // Both asked at once: a hit costs one round trip either way.
    const [bloom, cached] = await Promise.all([this.deps.existence.mightExist([userId]), this.cachedOrNone([userId])]);
    if (bloom?.[0] === false) return false;
    const hit = cached.get(userId);
    if (hit) {
      countProfileLookup(hit.kind === "profile" ? "hit" : "negative_hit");
      return hit.kind === "profile";
    }
    countProfileLookup("miss");
    return (await this.load([userId])).get(userId) !== null;
  }

  /** Cache first, then the shards for what the cache lacks; each found id maps to its profile. */
  private async lookup(ids: readonly number[], options?: ProfileReadOptions): Promise<Map<number, StoredProfile>> {
    const unique = [...new Set(ids)];
    const cached = await this.cachedOrNone(unique, options);
    const found = new Map<number, StoredProfile>();
    const misses: number[] = [];
    for (const id of unique) {
      const hit = cached.get(id);
      if (hit?.kind === "profile") found.set(id, hit.stored);
      else if (!hit) misses.push(id);
    }
    countLookups(found.size, unique.length - found.size - misses.length, misses.length);
    if (misses.length > 0) {
      for (const [id, stored] of await this.load(misses)) if (stored) found.set(id, stored);
    }
    return found;
  }

  /** The cache's answers; an unreachable cache counts as empty, so reads go on from the shards. */
  private async cachedOrNone(ids: readonly number[], options?: ProfileReadOptions): Promise<Map<number, CachedProfile>> {
    try {
      return await this.deps.cache.getMany(ids, options);
    } catch (err) {
      this.warnCacheDown(err);
      return new Map();
    }
  }

  /**
   * Loads `ids` from the shards: ids already being loaded by another call join
   * that load; the rest are read together (one query per shard) and written back
   * to the cache in the background.
   */
  private async load(ids: readonly number[]): Promise<Map<number, StoredProfile | null>> {
    const fresh = ids.filter((id) => !this.loads.has(id));
    let batch: Promise<Map<number, StoredProfile>> | undefined;
    const readFresh = () => {
      batch ??= this.deps.store.getProfiles(fresh).then((rows) => {
        this.writeBack(rows, fresh);
        return rows;
      });
      return batch;
    };
    const results = await Promise.all(ids.map((id) => this.loads.do(id, async () => (await readFresh()).get(id) ?? null)));
    return new Map(ids.map((id, i) => [id, results[i] ?? null]));
  }

  private writeBack(rows: Map<number, StoredProfile>, asked: readonly number[]): void {
    const missing = asked.filter((id) => !rows.has(id));
    this.deps.cache.fill([...rows.values()], missing).catch(this.warnWriteBack);
  }
}
