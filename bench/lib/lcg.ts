/** A deterministic pseudo-random generator in [0, 1), so runs draw the same graph and the same requests. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}
