/**
 * A TTL spread uniformly over `[base·(1−r), base·(1+r)]`, rounded to whole
 * seconds and at least 1, so keys written together (a warm-up, a hot list) do not
 * expire together and stampede the database.
 *
 * @param baseSeconds the nominal TTL (e.g. one day for relation caches)
 * @param jitterRatio r in [0, 1): the fraction of `baseSeconds` a TTL may move either way
 * @param random a source of uniform numbers in [0, 1); tests pass their own
 */
export function ttlWithJitter(baseSeconds: number, jitterRatio: number, random: () => number = Math.random): number {
  if (!Number.isFinite(baseSeconds) || baseSeconds <= 0) throw new RangeError("baseSeconds must be > 0");
  if (!(jitterRatio >= 0 && jitterRatio < 1)) throw new RangeError("jitterRatio must be in [0, 1)");
  const offset = (random() * 2 - 1) * jitterRatio * baseSeconds;
  return Math.max(1, Math.round(baseSeconds + offset));
}
