/**
 * Which keys were hit most in the last window: counts in a ring of time buckets
 * (the window slides one bucket at a time), and the top K recomputed when a
 * bucket closes. Between recomputations a key whose count reaches the last K-th
 * count is admitted at once, so a key that turns hot need not wait a bucket.
 *
 * A hit touches only the open bucket and reads the closed buckets' sum (three
 * map operations); the sum is updated once per key when its bucket closes, not
 * on every hit (this runs for every profile of every hydrated page).
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
  /** Hits per key in the window's closed buckets (the open one is `ring[currentBucket % buckets]`). */
  private readonly closed = new Map<K, number>();
  private open: Map<K, number>;
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
    this.open = this.ring[this.currentBucket % buckets]!;
    this.admitAt = minHits;
  }

  /** Counts `hits` for `key` now; returns its count over the window. */
  record(key: K, hits = 1): number {
    this.advance();
    const inBucket = this.open.get(key);
    if (inBucket === undefined && this.open.size >= this.maxKeys) return this.closed.get(key) ?? 0;
    const n = (inBucket ?? 0) + hits;
    this.open.set(key, n);
    const total = (this.closed.get(key) ?? 0) + n;
    // Between recomputes the hot set holds every key at or above admitAt, so only a crossing adds one.
    if (total >= this.admitAt && total - hits < this.admitAt) this.hot.add(key);
    return total;
  }

  /** Hits of `key` over the window. */
  count(key: K): number {
    this.advance();
    return (this.closed.get(key) ?? 0) + (this.open.get(key) ?? 0);
  }

  /** True when `key` is among the hot keys of the window. */
  isHot(key: K): boolean {
    this.advance();
    return this.hot.has(key);
  }

  /** The hot keys with their counts, hottest first. */
  top(): Array<[K, number]> {
    this.advance();
    return [...this.hot].map((key): [K, number] => [key, this.count(key)]).sort((a, b) => b[1] - a[1]);
  }

  /** Closes the buckets that time has left behind, then recomputes the hot set. */
  private advance(): void {
    const bucketNow = Math.floor(this.now() / this.bucketMs);
    if (bucketNow <= this.currentBucket) return;
    // The open bucket closes: its hits join the closed sum.
    for (const [key, n] of this.open) this.closed.set(key, (this.closed.get(key) ?? 0) + n);
    const steps = Math.min(bucketNow - this.currentBucket, this.ring.length);
    for (let s = 1; s <= steps; s++) {
      const bucket = this.ring[(this.currentBucket + s) % this.ring.length]!;
      for (const [key, n] of bucket) {
        const left = (this.closed.get(key) ?? 0) - n;
        if (left > 0) this.closed.set(key, left);
        else this.closed.delete(key);
      }
      bucket.clear();
    }
    this.currentBucket = bucketNow;
    this.open = this.ring[bucketNow % this.ring.length]!;
    this.recompute();
  }

  private recompute(): void {
    const { k, minHits } = this.options;
    // The open bucket was just cleared, so the closed sum is the whole window.
    const ranked = [...this.closed]
      .filter(([, n]) => n >= minHits)
      .sort((a, b) => b[1] - a[1])
      .slice(0, k);
    this.hot = new Set(ranked.map(([key]) => key));
    // Until the next recompute, admit a key that beats the current K-th one.
    this.admitAt = ranked.length < k ? minHits : Math.max(minHits, ranked[ranked.length - 1]![1] + 1);
    this.options.onRecompute?.(this.hot);
  }
}
