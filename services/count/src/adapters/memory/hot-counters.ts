/**
 * Hot counters kept in the count process: in front of the Redis counter cache,
 * `@rs/cache`'s HotKeyCache (a sliding-window top-K over the counters asked
 * for, an LRU of the hot ones) answers a big account's counts, which every
 * profile view and list page asks for, without a Redis round trip.
 *
 * Staleness bound: a kept counter is served for `ttlMs` (1 s by default) after
 * it was read from Redis or MySQL. The count-consumer, another process, writes
 * new values to Redis; this process cannot know, so the TTL is the bound (the
 * value already trails the shards by the count pipeline's lag). Only values
 * that came from the cache or the store are kept, never a guess.
 */
import { HotKeyCache } from "@rs/cache";
import { counterKeyString, type CounterKey } from "../../domain/counter-key.js";
import type { CounterCachePort } from "../../domain/count-reads.service.js";

export interface HotCountersOptions {
  /** Counters kept at most (0: the layer is off and every call goes through). */
  readonly size: number;
  /** How long a kept counter is served: the staleness bound. */
  readonly ttlMs: number;
  /** Times within the 10 s window a counter must be asked for to be kept. */
  readonly minHits: number;
  /** Clock (tests move it). */
  readonly now?: () => number;
}

export interface HotCountersObserver {
  lookups(hits: number, misses: number): void;
}

const WINDOW_MS = 10_000;
const WINDOW_BUCKETS = 10;

export class HotCounters implements CounterCachePort {
  private readonly hot: HotKeyCache<number>;

  constructor(
    private readonly inner: CounterCachePort,
    opts: HotCountersOptions,
    private readonly observer?: HotCountersObserver,
  ) {
    this.hot = new HotKeyCache<number>({
      maxEntries: opts.size,
      ttlMs: opts.ttlMs,
      windowMs: WINDOW_MS,
      buckets: WINDOW_BUCKETS,
      minHits: opts.minHits,
      now: opts.now,
    });
  }

  async getMany(keys: readonly CounterKey[]): Promise<(number | undefined)[]> {
    const names = keys.map(counterKeyString);
    const out = names.map((n) => this.hot.lookup(n));
    const ask = keys.filter((_, i) => out[i] === undefined);
    this.observer?.lookups(keys.length - ask.length, ask.length);
    if (ask.length === 0) return out;
    const values = await this.inner.getMany(ask);
    let j = 0;
    return out.map((kept, i) => {
      if (kept !== undefined) return kept;
      const v = values[j++];
      if (v !== undefined) this.hot.offer(names[i]!, v);
      return v;
    });
  }

  async fill(entries: readonly { key: CounterKey; value: number }[]): Promise<void> {
    await this.inner.fill(entries);
    // read from the store just now: as fresh as a cache hit
    for (const e of entries) this.hot.offer(counterKeyString(e.key), e.value);
  }
}

/** The counter cache of the count service: `inner` alone, or behind hot counters when `opts.size` > 0. */
export function withHotCounters(inner: CounterCachePort, opts: HotCountersOptions, observer?: HotCountersObserver): CounterCachePort {
  return opts.size > 0 ? new HotCounters(inner, opts, observer) : inner;
}
