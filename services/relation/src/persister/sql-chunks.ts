/** Rows per statement: keeps packets and IN lists of bounded size and plans stable. */
export const STATEMENT_ROWS = 1_000;

/** Splits `items` into statements of at most `size` rows. */
export function chunks<T>(items: readonly T[], size: number = STATEMENT_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
