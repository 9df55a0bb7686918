/**
 * The counter cache: hash buckets small enough to stay listpack-encoded (far
 * less memory than one string key per counter; docs/design.md §4).
 *
 * Layout: key `<prefix><entity type>:<name>:<bucket>`, field = the entity id,
 * value = the counter. bucket = murmur3(id) mod COUNT_CACHE_BUCKETS. Ids are
 * 53-bit snowflakes (time, worker, sequence), so `id / 512` would put nearly
 * every user in a bucket of its own (ids of one bucket would have to be minted
 * in the same millisecond by the same worker) and save nothing; a hash spreads
 * them evenly, and the bucket count is sized to the number of cached counters
 * (about 256 per bucket). A listpack stores the decimal id
 * as an integer (≤ 10 bytes with its header) and a small count in 2-4 bytes,
 * so a counter costs about 12-14 bytes plus its share of the key.
 *
 * Every write goes through one script that keeps a bucket at or below
 * COUNT_CACHE_BUCKET_FIELDS (≤ hash-max-listpack-entries; beyond it Redis
 * would convert the bucket to a hashtable), dropping random fields when full.
 *
 * Consistency: readers fill only fields that are absent (`nx`); the
 * count-consumer overwrites (`set`) while it still holds the counter's row
 * lock in MySQL. So a reader that read MySQL before a change cannot overwrite
 * the changed value, and two consumers write in the order of their locks.
 */
import type { RedisClient } from "@rs/redis";
import { murmur3Id } from "@rs/mysql";
import { defineScript, type RedisScript } from "@rs/redis";
import { readFileSync } from "node:fs";
import type { CounterKey } from "../../domain/counter-key.js";

export const COUNT_CACHE_DEFAULTS = {
  keyPrefix: "rs:cnt:",
  /** ~16M cached counters per (type, name) at ~256 per bucket. */
  buckets: 65_536,
  /** The local Redis's hash-max-listpack-entries (deploy config); Redis's own default is 128. */
  bucketFields: 512,
  ttlMs: 24 * 60 * 60 * 1000,
  ttlJitterMs: 2 * 60 * 60 * 1000,
} as const;

export interface CounterCacheOptions {
  readonly keyPrefix: string;
  readonly buckets: number;
  readonly bucketFields: number;
  readonly ttlMs: number;
  readonly ttlJitterMs: number;
}

const SCRIPT = readFileSync(new URL("./counter-bucket-set.lua", import.meta.url), "utf8");

export class CounterCache {
  private readonly setScript: RedisScript<number>;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: CounterCacheOptions,
  ) {
    if (!Number.isSafeInteger(opts.buckets) || opts.buckets < 1) throw new RangeError("buckets must be a positive integer");
    if (!Number.isSafeInteger(opts.bucketFields) || opts.bucketFields < 1) throw new RangeError("bucketFields must be a positive integer");
    this.setScript = defineScript<number>(redis, "countBucketSet", SCRIPT, 1);
  }

  /** The bucket key of a counter. */
  bucketKey(k: CounterKey): string {
    return `${this.opts.keyPrefix}${k.entityType}:${k.name}:${murmur3Id(k.entityId) % this.opts.buckets}`;
  }

  /** Cached values in the order of `keys` (undefined = not cached): one HMGET per bucket, pipelined. */
  async getMany(keys: readonly CounterKey[]): Promise<(number | undefined)[]> {
    const byBucket = new Map<string, number[]>();
    keys.forEach((k, i) => {
      const b = this.bucketKey(k);
      byBucket.set(b, [...(byBucket.get(b) ?? []), i]);
    });
    const out: (number | undefined)[] = new Array<number | undefined>(keys.length).fill(undefined);
    await Promise.all(
      [...byBucket].map(async ([bucket, idx]) => {
        const values = await this.redis.hmget(bucket, ...idx.map((i) => String(keys[i]!.entityId)));
        values.forEach((v, j) => {
          if (v !== null) out[idx[j]!] = Number(v);
        });
      }),
    );
    return out;
  }

  /** Caches values read from MySQL, only where nothing is cached yet. */
  fill(entries: readonly { key: CounterKey; value: number }[]): Promise<void> {
    return this.write("nx", entries);
  }

  /** Writes changed values over whatever is cached (the count-consumer, under the row locks). */
  set(entries: readonly { key: CounterKey; value: number }[]): Promise<void> {
    return this.write("set", entries);
  }

  private async write(mode: "nx" | "set", entries: readonly { key: CounterKey; value: number }[]): Promise<void> {
    const byBucket = new Map<string, (string | number)[]>();
    for (const e of entries) {
      const b = this.bucketKey(e.key);
      const args = byBucket.get(b) ?? [];
      args.push(String(e.key.entityId), e.value);
      byBucket.set(b, args);
    }
    await Promise.all(
      [...byBucket].map(([bucket, pairs]) => {
        const ttl = this.opts.ttlMs + Math.floor(Math.random() * (this.opts.ttlJitterMs + 1));
        return this.setScript([bucket], [mode, this.opts.bucketFields, ttl, ...pairs]);
      }),
    );
  }

  /** Redis's hash-max-listpack-entries, or undefined where CONFIG is not allowed (managed Redis). */
  async listpackLimit(): Promise<number | undefined> {
    try {
      const r = (await this.redis.config("GET", "hash-max-listpack-entries")) as string[];
      const n = Number(r[1]);
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }
}
