/** Base lifetime of a cached list: one day, as in the seed design. */
export const DEFAULT_CACHE_TTL_MS = 24 * 60 * 60 * 1000;
/** Up to this much is added at random, so keys loaded together do not expire together. */
export const DEFAULT_CACHE_TTL_JITTER_MS = 2 * 60 * 60 * 1000;

/** A key lifetime: `baseMs` plus a uniform random share of `jitterMs`. */
export function jitteredTtlMs(baseMs: number, jitterMs: number, random: () => number = Math.random): number {
  if (!Number.isSafeInteger(baseMs) || baseMs <= 0) throw new RangeError(`ttl must be a positive integer, got ${baseMs}`);
  if (!Number.isSafeInteger(jitterMs) || jitterMs < 0) throw new RangeError(`ttl jitter must be a non-negative integer, got ${jitterMs}`);
  return baseMs + Math.floor(random() * (jitterMs + 1));
}
