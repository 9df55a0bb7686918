/**
 * The profile cache in Redis: one string per user (see profile-entry.ts),
 * read for a whole batch with one MGET, written by a script that never lets an
 * older read replace a newer entry (profile-put.lua).
 *
 * Keys are `<prefix>profile:{<id>}`: the hash tag keeps a user's keys in one
 * slot, as everywhere in the suite. On Redis Cluster the MGET of a batch would
 * have to be split by slot (ioredis does not do that for MGET); on one Redis, or
 * a primary with replicas, it is one command.
 */
import { readFileSync } from "node:fs";
import { ttlWithJitter } from "@rs/cache";
import { defineScript, execAcrossSlots, mgetAcrossSlots, type RedisClient, type RedisScript } from "@rs/redis";
import type { CachedProfile, ProfileCache } from "../../domain/ports.js";
import type { StoredProfile } from "../../domain/profile.js";
import { decodeEntry, encodeInvalidated, encodeProfile, INVALIDATED_TAG, MISSING_TAG, PROFILE_TAG } from "./profile-entry.js";

const PUT_LUA = readFileSync(new URL("./profile-put.lua", import.meta.url), "utf8");
/**
 * How long an invalidation mark stays: longer than any shard read that started
 * before the change can take to come back and try to write its older copy.
 */
export const INVALIDATION_MARK_TTL_SECONDS = 60;

export interface ProfileCacheOptions {
  readonly keyPrefix: string;
  /** Pub/sub channel on which each invalidation is announced (the user id), so processes keeping copies drop them (ADR 28). */
  readonly changesChannel?: string;
  readonly ttlSeconds: number;
  /** Fraction of the TTL each entry's lifetime moves at random either way. */
  readonly ttlJitter: number;
  readonly negativeTtlSeconds: number;
}

export class RedisProfileCache implements ProfileCache {
  private readonly put: RedisScript<number>;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: ProfileCacheOptions,
  ) {
    this.put = defineScript<number>(redis, "userProfilePut", PUT_LUA, 1);
  }

  /** From the service's settings (the user service and the user-consumer share them). */
  static fromSettings(
    redis: RedisClient,
    s: {
      REDIS_KEY_PREFIX: string;
      PROFILE_CACHE_TTL_SECONDS: number;
      PROFILE_CACHE_TTL_JITTER: number;
      PROFILE_NEGATIVE_TTL_SECONDS: number;
      PROFILE_CHANGES_CHANNEL: string;
    },
  ): RedisProfileCache {
    return new RedisProfileCache(redis, {
      keyPrefix: s.REDIS_KEY_PREFIX,
      changesChannel: s.PROFILE_CHANGES_CHANNEL,
      ttlSeconds: s.PROFILE_CACHE_TTL_SECONDS,
      ttlJitter: s.PROFILE_CACHE_TTL_JITTER,
      negativeTtlSeconds: s.PROFILE_NEGATIVE_TTL_SECONDS,
    });
  }

  /** The Redis key of one user's entry. */
  key(userId: number): string {
    return `${this.options.keyPrefix}profile:{${userId}}`;
  }

  async getMany(ids: readonly number[]): Promise<Map<number, CachedProfile>> {
    const out = new Map<number, CachedProfile>();
    if (ids.length === 0) return out;
    // one MGET on a single Redis; on a Cluster the users' keys are in many slots
    const values = await mgetAcrossSlots(
      this.redis,
      ids.map((id) => this.key(id)),
    );
    ids.forEach((id, i) => {
      const entry = decodeEntry(id, values[i] ?? null);
      if (entry) out.set(id, entry);
    });
    return out;
  }

  async fill(found: readonly StoredProfile[], missing: readonly number[]): Promise<void> {
    if (found.length === 0 && missing.length === 0) return;
    const replies = await execAcrossSlots(this.redis, (pipeline) => {
      const run = (pipeline as unknown as Record<string, (...args: (string | number)[]) => unknown>)[this.put.scriptName]!.bind(pipeline);
      for (const stored of found) {
        const ttl = ttlWithJitter(this.options.ttlSeconds, this.options.ttlJitter);
        run(this.key(stored.profile.id), PROFILE_TAG, stored.revision, encodeProfile(stored), ttl);
      }
      for (const id of missing) run(this.key(id), MISSING_TAG, 0, MISSING_TAG, this.options.negativeTtlSeconds);
    });
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** Marks the entry invalid at `revision` and, in the same script, announces the change on the changes channel. */
  async invalidate(userId: number, revision: number): Promise<void> {
    const announce = this.options.changesChannel === undefined ? [] : [this.options.changesChannel, userId];
    await this.put([this.key(userId)], [INVALIDATED_TAG, revision, encodeInvalidated(revision), INVALIDATION_MARK_TTL_SECONDS, ...announce]);
  }
}
