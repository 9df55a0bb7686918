/**
 * The counter cache: hash buckets small enough to stay listpack-encoded (far
 * less memory than one string key per counter; docs/design.md §4).
 *
 * Layout: key `<prefix><entity type>:<name>:b<bucket>`, and a binary field
 * of 5 bytes (at the default 65 536 buckets) from which, with the bucket, the
 * id follows; see counter-slot.ts. The bucket count is sized to the number of
 * cached counters (about 256 per bucket). A counter then costs about 9 bytes
 * in its listpack (7 for the field, 2 for a small count) plus its share of the
 * key and of the allocation.
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
import { defineScript, type RedisScript } from "@rs/redis";
import { readFileSync } from "node:fs";
import type { CounterKey } from "../../domain/counter-key.js";
import { CounterSlots, type CounterSlot } from "./counter-slot.js";

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
  private readonly slots: CounterSlots;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: CounterCacheOptions,
  ) {
    if (!Number.isSafeInteger(opts.buckets) || opts.buckets < 1) throw new RangeError("buckets must be a positive integer");
    if (!Number.isSafeInteger(opts.bucketFields) || opts.bucketFields < 1) throw new RangeError("bucketFields must be a positive integer");
    this.setScript = defineScript<number>(redis, "countBucketSet", SCRIPT, 1);
    this.slots = new CounterSlots(opts.buckets);
  }

  /** The bucket key of a counter and its field in it. */
  locate(k: CounterKey): { readonly key: string; readonly field: Buffer } {
    const slot: CounterSlot = this.slots.of(k.entityId);
    return { key: `${this.opts.keyPrefix}${k.entityType}:${k.name}:b${slot.bucket}`, field: slot.field };
  }

  /** Cached values in the order of `keys` (undefined = not cached): one HMGET per bucket, pipelined. */
  async getMany(keys: readonly CounterKey[]): Promise<(number | undefined)[]> {
    const byBucket = new Map<string, { idx: number[]; fields: Buffer[] }>();
    keys.forEach((k, i) => {
      const { key, field } = this.locate(k);
      const b = byBucket.get(key) ?? { idx: [], fields: [] };
      b.idx.push(i);
      b.fields.push(field);
      byBucket.set(key, b);
    });
    const out: (number | undefined)[] = new Array<number | undefined>(keys.length).fill(undefined);
    await Promise.all(
      [...byBucket].map(async ([bucket, { idx, fields }]) => {
        const values = await this.redis.hmget(bucket, ...fields);
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
    const byBucket = new Map<string, (Buffer | number)[]>();
    for (const e of entries) {
      const { key, field } = this.locate(e.key);
      const args = byBucket.get(key) ?? [];
      args.push(field, e.value);
      byBucket.set(key, args);
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
