/** Base lifetime of a cached list: one day (docs/design.md §4). */
export const DEFAULT_CACHE_TTL_MS = 24 * 60 * 60 * 1000;
/** Up to this much is added at random, so keys loaded together do not expire together. */
export const DEFAULT_CACHE_TTL_JITTER_MS = 2 * 60 * 60 * 1000;

/**
 * Lifetime of a list loaded empty (no rows: a user without follows or fans,
 * or an id that is no user at all). Reads of arbitrary ids load such lists;
 * with the full lifetime each would hold its keys for a day.
 */
export const DEFAULT_EMPTY_CACHE_TTL_MS = 60 * 1000;

/** A key lifetime: `baseMs` plus a uniform random share of `jitterMs`. */
export function jitteredTtlMs(baseMs: number, jitterMs: number, random: () => number = Math.random): number {
  if (!Number.isSafeInteger(baseMs) || baseMs <= 0) throw new RangeError(`ttl must be a positive integer, got ${baseMs}`);
  if (!Number.isSafeInteger(jitterMs) || jitterMs < 0) throw new RangeError(`ttl jitter must be a non-negative integer, got ${jitterMs}`);
  return baseMs + Math.floor(random() * (jitterMs + 1));
}

/** The lifetime of a list loaded with `rows` rows: the short empty lifetime when there are none. */
export function loadTtlMs(rows: number, o: { ttlMs: number; ttlJitterMs: number; emptyTtlMs: number }): number {
  return rows === 0 ? o.emptyTtlMs : jitteredTtlMs(o.ttlMs, o.ttlJitterMs);
}
