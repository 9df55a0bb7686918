/**
 * Hot counters kept in the count process: in front of the Redis counter cache,
 * `@rs/cache`'s HotKeyCache (a sliding-window top-K over the counters asked
 * for, an LRU of the hot ones) answers a big account's counts, which every
 * profile view and list page asks for, without a Redis round trip.
 *
 * Staleness bound: a kept counter is served for the hot-key TTL (`HOT_KEY_TTL_MS`, 1 s) after
 * it was read from Redis or MySQL. The count-consumer, another process, writes
 * new values to Redis; this process cannot know, so the TTL is the bound (the
 * value already trails the shards by the count pipeline's lag). Only values
 * that came from the cache or the store are kept, never a guess.
 */
import { hotKeyCache, type HotKeyCache, type HotKeySettings } from "@rs/cache";
import { counterKeyString, type CounterKey } from "../../domain/counter-key.js";
import type { CounterCachePort } from "../../domain/count-reads.service.js";

export interface HotCountersObserver {
  lookups(hits: number, misses: number): void;
}

export class HotCounters implements CounterCachePort {
  private readonly hot: HotKeyCache<number> | undefined;

  /** With `settings.size` 0 every call goes through to `inner`. */
  constructor(
    private readonly inner: CounterCachePort,
    settings: HotKeySettings,
    private readonly observer?: HotCountersObserver,
  ) {
    this.hot = hotKeyCache<number>(settings);
  }

  async getMany(keys: readonly CounterKey[]): Promise<(number | undefined)[]> {
    const hot = this.hot;
    if (!hot) return this.inner.getMany(keys);
    const names = keys.map(counterKeyString);
    const out = names.map((n) => hot.lookup(n));
    const ask = keys.filter((_, i) => out[i] === undefined);
    this.observer?.lookups(keys.length - ask.length, ask.length);
    if (ask.length === 0) return out;
    const values = await this.inner.getMany(ask);
    let j = 0;
    return out.map((kept, i) => {
      if (kept !== undefined) return kept;
      const v = values[j++];
      if (v !== undefined) hot.offer(names[i]!, v);
      return v;
    });
  }

  async fill(entries: readonly { key: CounterKey; value: number }[]): Promise<void> {
    await this.inner.fill(entries);
    // read from the store just now: as fresh as a cache hit
    for (const e of entries) this.hot?.offer(counterKeyString(e.key), e.value);
  }
}
