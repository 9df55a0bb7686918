/**
 * What the persister's and the reconciler's repositories share: statements
 * cut into chunks of bounded size, and the one method they run them with.
 */
import type { PoolConnection } from "@rs/mysql";

/** Anything that runs a query: a pool (plain reads) or a connection in a transaction. */
export type Queryable = Pick<PoolConnection, "query">;

/** Rows per statement: keeps packets and IN lists of bounded size and plans stable. */
export const STATEMENT_ROWS = 1_000;

/** Splits `items` into statements of at most `size` rows. */
export function chunks<T>(items: readonly T[], size: number = STATEMENT_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `value` as SQL: a safe integer, else a RangeError (nothing else may reach a statement unescaped). */
function sqlInteger(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer for SQL: ${String(value)}`);
  return String(value);
}

/**
 * Integers as a SQL list, `1, 2, 3`: what mysql2 makes of `?` bound to the
 * same array, without its per-value escaping. The persister's statements
 * carry up to 7 000 values (1 000 rows of 7 columns), and escaping them value
 * by value was 4 % of its process's CPU. Anything but a safe integer throws.
 */
export function sqlIntegers(values: readonly number[]): string {
  let out = "";
  for (let i = 0; i < values.length; i++) out += (i === 0 ? "" : ", ") + sqlInteger(values[i]!);
  return out;
}

/** Rows of integers as SQL, `(1, 2), (3, 4)`: mysql2's `?` bound to the same array of arrays, unescaped. */
export function sqlIntegerRows(rows: readonly (readonly number[])[]): string {
  let out = "";
  for (let i = 0; i < rows.length; i++) out += (i === 0 ? "(" : ", (") + sqlIntegers(rows[i]!) + ")";
  return out;
}
