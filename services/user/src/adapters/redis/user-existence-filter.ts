/**
 * Which user ids exist, as a Bloom filter on Redis bitmaps (@rs/cache).
 *
 * The filter is trusted only while `<name>:seeded` exists: it is set after a
 * full scan of every shard, and it disappears with the bits if Redis loses its
 * data, so a filter missing users is never believed. Until it is back, answers
 * are "ask the store", and one instance rebuilds it (a lock with a token; the
 * seeded mark is set only if the lock is still ours, i.e. Redis did not lose the
 * bits meanwhile). Registers add their id before the row exists, seeded or not.
 */
import { randomBytes } from "node:crypto";
import { RedisBloomFilter } from "@rs/cache";
import type { Logger } from "@rs/logger";
import { defineScript, type RedisClient, type RedisScript } from "@rs/redis";
import type { ExistenceFilter, UserStore } from "../../domain/ports.js";
import { throttledWarning } from "../../throttled-warning.js";
import { bloomAnswers } from "../../user.metrics.js";

/** How long a seeding instance holds the lock without showing progress (renewed after every page). */
export const SEED_LOCK_TTL_MS = 60_000;
/** Least time between two background seeding attempts of one instance. */
export const SEED_RETRY_INTERVAL_MS = 5_000;
const LOCK_TOKEN_BYTES = 12;

/** KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms. Renews the lock if it is still ours. */
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
/** KEYS[1] lock, KEYS[2] seeded mark; ARGV[1] token. Marks the filter seeded if the lock is still ours. */
const FINISH_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[2], '1'); redis.call('DEL', KEYS[1]); return 1 end return 0`;

export interface UserExistenceFilterOptions {
  readonly keyPrefix: string;
  readonly expectedUsers: number;
  readonly falsePositiveRate: number;
  readonly store: Pick<UserStore, "scanUserIds">;
  readonly logger: Logger;
}

export class RedisUserExistenceFilter implements ExistenceFilter {
  readonly bloom: RedisBloomFilter;
  private readonly seededKey: string;
  private readonly lockKey: string;
  private readonly renew: RedisScript<number>;
  private readonly finish: RedisScript<number>;
  private seeding: Promise<boolean> | undefined;
  private lastAttemptMs = 0;
  private readonly warnUnavailable: (err: unknown) => void;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: UserExistenceFilterOptions,
  ) {
    const name = `${options.keyPrefix}bloom`;
    this.bloom = new RedisBloomFilter(redis, { name, expectedItems: options.expectedUsers, falsePositiveRate: options.falsePositiveRate });
    // The bloom's own hash tag, so the marks share its slot (the finish script touches two keys).
    this.seededKey = `{${name}}:seeded`;
    this.lockKey = `{${name}}:seeding`;
    this.renew = defineScript<number>(redis, "userBloomRenewLock", RENEW_LUA, 1);
    this.finish = defineScript<number>(redis, "userBloomFinishSeed", FINISH_LUA, 2);
    this.warnUnavailable = throttledWarning(options.logger, "user bloom filter unavailable; asking the store");
  }

  /** Every Redis key of the filter (tests delete them; an operator rebuilding it does too). */
  get redisKeys(): readonly string[] {
    return [...this.bloom.redisKeys, this.seededKey, this.lockKey];
  }

  async mightExist(ids: readonly number[]): Promise<boolean[] | undefined> {
    try {
      const [bits, seeded] = await Promise.all([this.bloom.mightContainMany(ids.map(String)), this.redis.exists(this.seededKey)]);
      if (seeded === 1) {
        for (const bit of bits) bloomAnswers().inc({ answer: bit ? "maybe" : "absent" });
        return bits;
      }
      this.seedInBackground();
    } catch (err) {
      this.warnUnavailable(err);
    }
    bloomAnswers().inc({ answer: "untrusted" }, ids.length);
    return undefined;
  }

  async add(userId: number): Promise<void> {
    await this.bloom.add(String(userId));
  }

  /**
   * Seeds the filter from every shard unless it is marked seeded. Resolves true
   * when the filter is trusted, false when another instance is seeding it (its
   * answers are "ask the store" until then).
   */
  ensureSeeded(): Promise<boolean> {
    this.seeding ??= this.seed().finally(() => {
      this.seeding = undefined;
    });
    return this.seeding;
  }

  private seedInBackground(): void {
    const now = Date.now();
    if (this.seeding || now - this.lastAttemptMs < SEED_RETRY_INTERVAL_MS) return;
    this.lastAttemptMs = now;
    this.ensureSeeded().catch((err: unknown) => this.options.logger.warn({ err }, "seeding the user bloom filter failed"));
  }

  private async seed(): Promise<boolean> {
    const log = this.options.logger;
    await this.bloom.init();
    if ((await this.redis.exists(this.seededKey)) === 1) return true;
    const token = randomBytes(LOCK_TOKEN_BYTES).toString("hex");
    if ((await this.redis.set(this.lockKey, token, "PX", SEED_LOCK_TTL_MS, "NX")) !== "OK") {
      log.info("another instance is seeding the user bloom filter");
      return false;
    }
    const started = Date.now();
    let users = 0;
    await this.options.store.scanUserIds(async (ids) => {
      await this.bloom.addMany(ids.map(String));
      users += ids.length;
      if ((await this.renew([this.lockKey], [token, SEED_LOCK_TTL_MS])) !== 1) throw new Error("lost the seeding lock (Redis restarted or the lock expired)");
    });
    if ((await this.finish([this.lockKey, this.seededKey], [token])) !== 1) throw new Error("lost the seeding lock before the filter was complete");
    log.info({ users, ms: Date.now() - started, layout: this.bloom.layout }, "user bloom filter seeded from the shards");
    return true;
  }
}
