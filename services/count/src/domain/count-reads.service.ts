/**
 * Reading counters: the cache first (one HMGET per bucket), then MySQL for
 * what is missing, with singleflight per counter (concurrent misses of one
 * counter make one read) and one query per shard for all misses of a call.
 * If Redis is unavailable the reads go to MySQL (slower, still exact).
 * A counter with no row in the store is read from its authority when it has
 * one (a user's following/follower count: the relation shards' exact count),
 * so a counter whose count.changed never arrived does not read 0.
 */
import { Singleflight } from "@rs/cache";
import type { Logger } from "@rs/logger";
import { counterKeyString, FOLLOWER, FOLLOWING, USER_ENTITY, type CounterKey } from "./counter-key.js";

export interface CounterStore {
  read(keys: readonly CounterKey[]): Promise<Map<string, number>>;
}

export interface CounterCachePort {
  getMany(keys: readonly CounterKey[]): Promise<(number | undefined)[]>;
  fill(entries: readonly { key: CounterKey; value: number }[]): Promise<void>;
}

export interface CountReadsObserver {
  lookups(hits: number, misses: number): void;
  cacheError(): void;
}

export interface UserCounts {
  readonly userId: number;
  readonly followingCount: number;
  readonly followerCount: number;
}

export class CountReadsService {
  private readonly inflight = new Singleflight<string, number>();

  constructor(
    private readonly deps: {
      store: CounterStore;
      cache: CounterCachePort;
      logger: Logger;
      observer?: CountReadsObserver;
      /** Where counters absent from the store are read instead (only those it knows; the rest are 0). */
      authority?: CounterStore;
    },
  ) {}

  /** Values in the order of `keys`; a counter never written is its authority's value, or 0 without one. */
  async getCounters(keys: readonly CounterKey[]): Promise<number[]> {
    let cached: (number | undefined)[];
    try {
      cached = await this.deps.cache.getMany(keys);
    } catch (err) {
      this.deps.observer?.cacheError();
      this.deps.logger.warn({ err }, "counter cache unavailable; reading MySQL");
      cached = keys.map(() => undefined);
    }
    const missing = keys.filter((_, i) => cached[i] === undefined);
    this.deps.observer?.lookups(keys.length - missing.length, missing.length);
    if (missing.length === 0) return cached as number[];

    const loaded = await this.load(missing);
    return keys.map((k, i) => cached[i] ?? loaded.get(counterKeyString(k)) ?? 0);
  }

  /** following/follower counts of users, in the order of `userIds`. */
  async getUserCounts(userIds: readonly number[]): Promise<UserCounts[]> {
    const keys = userIds.flatMap((id) => [
      { entityType: USER_ENTITY, entityId: id, name: FOLLOWING },
      { entityType: USER_ENTITY, entityId: id, name: FOLLOWER },
    ]);
    const values = await this.getCounters(keys);
    return userIds.map((userId, i) => ({ userId, followingCount: values[2 * i]!, followerCount: values[2 * i + 1]! }));
  }

  /**
   * Reads the missing counters from MySQL and caches them (absent rows as their
   * authority's value or 0, so a counter nobody has yet does not go to MySQL
   * each time; the fill never overwrites a value the consumer wrote). Counters already
   * being read by another call join that read.
   */
  private async load(missing: readonly CounterKey[]): Promise<Map<string, number>> {
    const fresh: CounterKey[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // Starts once every new key of this call has joined, so they share one read.
    const batch = gate.then(() => this.readAndFill(fresh));
    const pending = missing.map((k) => {
      const ks = counterKeyString(k);
      return this.inflight
        .do(ks, async () => {
          fresh.push(k);
          return (await batch).get(ks) ?? 0;
        })
        .then((v) => [ks, v] as const);
    });
    open();
    const results = await Promise.all(pending);
    return new Map(results);
  }

  private async readAndFill(keys: readonly CounterKey[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const values = await this.deps.store.read(keys);
    const absent = keys.filter((k) => !values.has(counterKeyString(k)));
    if (absent.length > 0 && this.deps.authority) {
      for (const [k, v] of await this.deps.authority.read(absent)) values.set(k, v);
    }
    try {
      await this.deps.cache.fill(keys.map((key) => ({ key, value: values.get(counterKeyString(key)) ?? 0 })));
    } catch (err) {
      this.deps.observer?.cacheError();
      this.deps.logger.debug({ err }, "counter cache fill failed");
    }
    return values;
  }
}
