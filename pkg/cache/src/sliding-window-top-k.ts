/**
 * Which keys were hit most in the last window: counts in a ring of time buckets
 * (the window slides one bucket at a time), and the top K recomputed when a
 * bucket closes. Between recomputations a key whose count reaches the last K-th
 * count is admitted at once, so a key that turns hot need not wait a bucket.
 */

/** Distinct keys counted per bucket; beyond it new keys are not counted until the next bucket. */
export const DEFAULT_MAX_KEYS_PER_BUCKET = 10_000;

export interface SlidingWindowTopKOptions<K = string> {
  /** Length of the window, in ms. */
  readonly windowMs: number;
  /** Buckets the window is cut into (its resolution). */
  readonly buckets: number;
  /** How many keys may be hot at once. */
  readonly k: number;
  /** Hits within the window below which a key is never hot. */
  readonly minHits: number;
  /**
   * Bounds memory under a flood of distinct keys. A hot key is hit often, so it is
   * among the first seen in a bucket; the keys left uncounted are the rare ones.
   * Default {@link DEFAULT_MAX_KEYS_PER_BUCKET}.
   */
  readonly maxKeysPerBucket?: number;
  readonly now?: () => number;
  /** Called with the new hot set each time it is recomputed. */
  readonly onRecompute?: (hot: ReadonlySet<K>) => void;
}

/** Keys are strings or numbers (ids: no string to build per hit). */
export class SlidingWindowTopK<K extends string | number = string> {
  private readonly bucketMs: number;
  private readonly ring: Map<K, number>[];
  private readonly totals = new Map<K, number>();
  private readonly maxKeys: number;
  private readonly now: () => number;
  private currentBucket: number;
  private hot = new Set<K>();
  private admitAt: number;

  constructor(private readonly options: SlidingWindowTopKOptions<K>) {
    const { windowMs, buckets, k, minHits } = options;
    if (!(windowMs > 0) || !Number.isInteger(buckets) || buckets <= 0 || !Number.isInteger(k) || k <= 0 || !(minHits >= 1)) {
      throw new RangeError("windowMs > 0, buckets > 0, k > 0 and minHits >= 1 are required");
    }
    this.bucketMs = windowMs / buckets;
    this.ring = Array.from({ length: buckets }, () => new Map<K, number>());
    this.maxKeys = options.maxKeysPerBucket ?? DEFAULT_MAX_KEYS_PER_BUCKET;
    this.now = options.now ?? Date.now;
    this.currentBucket = Math.floor(this.now() / this.bucketMs);
    this.admitAt = minHits;
  }

  /** Counts `hits` for `key` now; returns its count over the window. */
  record(key: K, hits = 1): number {
    this.advance();
    const bucket = this.ring[this.currentBucket % this.ring.length]!;
    const inBucket = bucket.get(key);
    if (inBucket === undefined && bucket.size >= this.maxKeys) return this.totals.get(key) ?? 0;
    bucket.set(key, (inBucket ?? 0) + hits);
    const total = (this.totals.get(key) ?? 0) + hits;
    this.totals.set(key, total);
    if (total >= this.admitAt) this.hot.add(key);
    return total;
  }

  /** Hits of `key` over the window. */
  count(key: K): number {
    this.advance();
    return this.totals.get(key) ?? 0;
  }

  /** True when `key` is among the hot keys of the window. */
  isHot(key: K): boolean {
    this.advance();
    return this.hot.has(key);
  }

  /** The hot keys with their counts, hottest first. */
  top(): Array<[K, number]> {
    this.advance();
    return [...this.hot].map((key): [K, number] => [key, this.totals.get(key) ?? 0]).sort((a, b) => b[1] - a[1]);
  }

  /** Closes the buckets that time has left behind, then recomputes the hot set. */
  private advance(): void {
    const bucketNow = Math.floor(this.now() / this.bucketMs);
    if (bucketNow <= this.currentBucket) return;
    const steps = Math.min(bucketNow - this.currentBucket, this.ring.length);
    for (let s = 1; s <= steps; s++) {
      const bucket = this.ring[(this.currentBucket + s) % this.ring.length]!;
      for (const [key, n] of bucket) {
        const left = (this.totals.get(key) ?? 0) - n;
        if (left > 0) this.totals.set(key, left);
        else this.totals.delete(key);
      }
      bucket.clear();
    }
    this.currentBucket = bucketNow;
    this.recompute();
  }

  private recompute(): void {
    const { k, minHits } = this.options;
    const ranked = [...this.totals]
      .filter(([, n]) => n >= minHits)
      .sort((a, b) => b[1] - a[1])
      .slice(0, k);
    this.hot = new Set(ranked.map(([key]) => key));
    // Until the next recompute, admit a key that beats the current K-th one.
    this.admitAt = ranked.length < k ? minHits : Math.max(minHits, ranked[ranked.length - 1]![1] + 1);
    this.options.onRecompute?.(this.hot);
  }
}
