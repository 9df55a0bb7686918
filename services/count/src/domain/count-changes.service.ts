/**
 * Applying count.changed to the count store: the newest version of each
 * counter in a batch, written to MySQL with a version guard and, while the
 * rows are still locked, into the cache. At-least-once delivery is fine: a
 * version not newer than the stored one changes nothing.
 */
import { counterKeyString, type CounterChange, type CounterKey } from "./counter-key.js";

export interface CounterChangeStore {
  apply(changes: readonly CounterChange[], nowMs: number, whileLocked: (current: { key: CounterKey; value: number }[]) => Promise<void>): Promise<void>;
}

export interface CounterCacheWriter {
  set(entries: readonly { key: CounterKey; value: number }[]): Promise<void>;
}

/** Keeps the newest version of each counter. */
export function newestPerCounter(changes: readonly CounterChange[]): CounterChange[] {
  const newest = new Map<string, CounterChange>();
  for (const c of changes) {
    const k = counterKeyString(c.key);
    const seen = newest.get(k);
    if (!seen || c.version > seen.version) newest.set(k, c);
  }
  return [...newest.values()];
}

export class CountChangesService {
  constructor(private readonly deps: { store: CounterChangeStore; cache: CounterCacheWriter; now?: () => number }) {}

  /** Resolves once every change is committed (or found older than what is stored). */
  async apply(changes: readonly CounterChange[]): Promise<void> {
    const newest = newestPerCounter(changes);
    if (newest.length === 0) return;
    // A cache write that fails rolls the transaction back and the batch comes
    // again: the cache is never left behind a committed value.
    await this.deps.store.apply(newest, (this.deps.now ?? Date.now)(), (current) => this.deps.cache.set(current));
  }
}
