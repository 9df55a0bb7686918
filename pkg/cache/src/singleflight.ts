/**
 * Collapses concurrent calls for one key into one execution (Go's
 * `singleflight.Group`). No npm package of this is widely used and maintained
 * (the ones that exist have a few hundred downloads a month), and the whole idea
 * is one map of promises, so it lives here.
 */
export class Singleflight<K, V> {
  private readonly inflight = new Map<K, Promise<V>>();

  /**
   * Runs `fn` for `key` unless a call for `key` is already in flight, in which case
   * the caller shares that call's promise: its value and its error alike. The entry
   * is dropped as soon as the call settles, so the next call runs `fn` again
   * (singleflight dedupes concurrent work; it is not a cache).
   */
  do(key: K, fn: () => Promise<V>): Promise<V> {
    const existing = this.inflight.get(key);
    if (existing !== undefined) return existing;
    const call: Promise<V> = (async () => fn())().finally(() => {
      // Guard against forget() having let a newer call take the slot.
      if (this.inflight.get(key) === call) this.inflight.delete(key);
    });
    this.inflight.set(key, call);
    return call;
  }

  /** True while a call for `key` is in flight. */
  has(key: K): boolean {
    return this.inflight.has(key);
  }

  /** Lets the next call for `key` start afresh even if one is still running. */
  forget(key: K): void {
    this.inflight.delete(key);
  }

  /** Number of keys with a call in flight. */
  get size(): number {
    return this.inflight.size;
  }
}
