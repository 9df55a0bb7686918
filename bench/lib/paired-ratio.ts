/**
 * A row's speed against the echo baseline, measured in pairs: each run of the
 * row right after an echo run of its own, so both share the machine's state
 * of that moment (on shared cores its speed drifts within a run, by up to 2 ×
 * in this project's runs). With several pairs, the row's ratio is the median
 * pair's, and the spread of the pairs is kept beside it.
 */

export interface Pair<R extends { readonly rps: number }> {
  readonly echo: R;
  readonly row: R;
}

export interface PairedRatio<R> {
  /** The run of the median pair (its ratio is `ratio`). */
  readonly median: R;
  /** The median pair's row rps over its echo's rps, rounded to 2 decimals. */
  readonly ratio: number;
  /** Every pair's ratio (2 decimals), in measured order. */
  readonly ratios: number[];
  /** The median pair's echo run. */
  readonly echo: R;
}

const round2 = (n: number) => Number(n.toFixed(2));

/** The median of `pairs` by ratio (of an even count, the lower of the two middle pairs). */
export function pairedRatio<R extends { readonly rps: number }>(pairs: readonly Pair<R>[]): PairedRatio<R> {
  if (pairs.length === 0) throw new RangeError("at least one pair");
  const ratioOf = (p: Pair<R>) => (p.echo.rps > 0 ? p.row.rps / p.echo.rps : 0);
  const sorted = [...pairs].sort((a, b) => ratioOf(a) - ratioOf(b));
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { median: mid.row, ratio: round2(ratioOf(mid)), ratios: pairs.map((p) => round2(ratioOf(p))), echo: mid.echo };
}
