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
