/**
 * The two stores downstream of the shards' counts, as the reconciler reads and
 * repairs them: the count service's `counters` (with its bucketed Redis cache)
 * and the users' redundant follow_count/follower_count (with the profile
 * cache). Both live in the same shard databases as the relation tables, keyed
 * by the user like following_counts/follower_counts, so one shard's snapshot
 * holds a user's authoritative count and both copies.
 *
 * Repairs go through the consumers' own write paths (@rs/count's
 * CountChangesService, @rs/user's CountChangesService): a value is kept only if
 * its version is newer than the stored one, the count cache is written while
 * the counter row is locked, the profile cache invalidated at the row's new
 * revision. So a repair is exactly a count.changed record applied late, and a
 * newer record a consumer applied meanwhile is never overwritten.
 */
import type { RedisClient } from "@rs/redis";
import { CountChangesService, CounterCache, counterCacheOptions, CountersRepository, USER_ENTITY, type CounterCacheOptions } from "@rs/count";
import type { Logger } from "@rs/logger";
import type { RowDataPacket, ShardedMysql } from "@rs/mysql";
import { CountChangesService as UserCountChangesService, RedisProfileCache, UsersRepository } from "@rs/user";
import type { CountChange, CountName } from "../persister/count-arithmetic.js";
import { chunks, type Queryable } from "../persister/sql-chunks.js";
import type { FindingKind } from "./report-builder.js";

/** A copy of a count: its value and the version of the count.changed it came from. */
export interface CopiedCount {
  readonly value: number;
  readonly version: number;
}

export type DownstreamCheck = "counters" | "profiles";

export interface DownstreamCountStore {
  readonly check: DownstreamCheck;
  readonly kinds: Record<CountName, FindingKind>;
  /** True when only users with a row can hold the count (users: no account, nothing to repair). */
  readonly needsRow: boolean;
  /** Keyset stream of users holding a nonzero copy of `name` (parameters: after, limit). */
  nonzeroIdsSql(name: CountName): string;
  /** The copies of `name` of `users` (no row: absent), read on `db`. */
  read(db: Queryable, name: CountName, users: readonly number[]): Promise<Map<number, CopiedCount>>;
  /** Applies changes with the consumers' rule (newer version wins) and refreshes the store's cache. */
  apply(changes: readonly CountChange[]): Promise<void>;
}

async function readCopies(db: Queryable, sql: string, users: readonly number[], params: readonly unknown[] = []): Promise<Map<number, CopiedCount>> {
  const out = new Map<number, CopiedCount>();
  for (const part of chunks(users)) {
    const [rows] = await db.query<(RowDataPacket & { id: number; value: number; version: number })[]>(sql, [...params, part]);
    for (const r of rows) out.set(Number(r.id), { value: Number(r.value), version: Number(r.version) });
  }
  return out;
}

/** The count service's `counters` rows of users ('user', id, name) and its cache. */
export function countStore(mysql: ShardedMysql, redis: RedisClient, cacheOptions: CounterCacheOptions, logger: Logger): DownstreamCountStore {
  const service = new CountChangesService({ store: new CountersRepository(mysql, logger), cache: new CounterCache(redis, cacheOptions) });
  return {
    check: "counters",
    kinds: { following: "following_counter_wrong", follower: "follower_counter_wrong" },
    needsRow: false,
    nonzeroIdsSql: (name) =>
      `SELECT entity_id AS id FROM counters WHERE entity_id > ? AND entity_type = '${USER_ENTITY}' AND name = '${name}' AND value <> 0 ORDER BY entity_id LIMIT ?`,
    read: (db, name, users) =>
      readCopies(db, "SELECT entity_id AS id, value, version FROM counters WHERE entity_type = ? AND name = ? AND entity_id IN (?)", users, [
        USER_ENTITY,
        name,
      ]),
    apply: (changes) =>
      service.apply(changes.map((c) => ({ key: { entityType: USER_ENTITY, entityId: c.userId, name: c.name }, value: c.value, version: c.version }))),
  };
}

/** The users' columns of each count; never built from input. */
const USER_COLUMNS: Record<CountName, { value: string; version: string }> = {
  following: { value: "follow_count", version: "follow_count_version" },
  follower: { value: "follower_count", version: "follower_count_version" },
};
/** Profile repairs applied at once (one UPDATE and one cache invalidation each). */
const PROFILE_APPLY_CONCURRENCY = 8;

/** The users' redundant counters and the profile cache (only its invalidation is used). */
export function profileStore(mysql: ShardedMysql, redis: RedisClient, profileKeyPrefix: string): DownstreamCountStore {
  const cache = new RedisProfileCache(redis, { keyPrefix: profileKeyPrefix, ttlSeconds: 1, ttlJitter: 0, negativeTtlSeconds: 1 });
  const service = new UserCountChangesService({ store: new UsersRepository(mysql), cache });
  return {
    check: "profiles",
    kinds: { following: "profile_following_wrong", follower: "profile_follower_wrong" },
    needsRow: true,
    nonzeroIdsSql: (name) => `SELECT id FROM users WHERE id > ? AND ${USER_COLUMNS[name].value} <> 0 ORDER BY id LIMIT ?`,
    read: (db, name, users) =>
      readCopies(db, `SELECT id, ${USER_COLUMNS[name].value} AS value, ${USER_COLUMNS[name].version} AS version FROM users WHERE id IN (?)`, users),
    async apply(changes) {
      const queue = [...changes];
      const worker = async () => {
        for (let c = queue.shift(); c; c = queue.shift()) await service.applyCountChanged(c);
      };
      await Promise.all(Array.from({ length: Math.min(PROFILE_APPLY_CONCURRENCY, queue.length) }, worker));
    },
  };
}

/** The settings of downstream.settings.ts. */
type DownstreamSettings = Parameters<typeof counterCacheOptions>[0] & { readonly USER_REDIS_KEY_PREFIX: string };

/** Both stores, from the persister's settings. */
export function downstreamStores(config: DownstreamSettings, mysql: ShardedMysql, redis: RedisClient, logger: Logger): DownstreamCountStore[] {
  return [countStore(mysql, redis, counterCacheOptions(config), logger), profileStore(mysql, redis, config.USER_REDIS_KEY_PREFIX)];
}
