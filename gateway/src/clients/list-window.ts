/**
 * Offset windows over the relation service's keyset-paged lists: the seed's
 * `page`/`pageSize` routes and the app API's unpaged lists are served by
 * walking cursors (never an OFFSET query), bounded by the caller.
 */
import type { relationV1 } from "@rs/idl";

/** Largest `limit` one List* call accepts (relation.proto). */
export const RPC_PAGE_MAX = 100;
/** Pages tolerated beyond the minimum, for pages that come back short (e.g. friends filtered after the keyset scan). */
const SHORT_PAGE_ALLOWANCE = 10;

export interface ListPage {
  readonly users: relationV1.RelationUser[];
  readonly nextCursor: string;
  readonly totalCount: number;
}

/** Fetches one page of a list from `cursor` ("" = the start). */
export type PageFetch = (cursor: string, limit: number) => Promise<ListPage>;

/**
 * Items `skip` .. `skip + take - 1` of a list (newest first), the list's total,
 * and the cursor after the last item read ("" at the end of the list).
 */
export async function readWindow(fetch: PageFetch, skip: number, take: number): Promise<ListPage> {
  const out: relationV1.RelationUser[] = [];
  let cursor = "";
  let skipLeft = skip;
  let totalCount = 0;
  const maxPages = Math.ceil((skip + take) / RPC_PAGE_MAX) + SHORT_PAGE_ALLOWANCE;
  for (let pages = 0; pages < maxPages && out.length < take; pages++) {
    const limit = Math.min(RPC_PAGE_MAX, skipLeft + take - out.length);
    const page = await fetch(cursor, limit);
    totalCount = page.totalCount;
    const dropped = Math.min(skipLeft, page.users.length);
    skipLeft -= dropped;
    out.push(...page.users.slice(dropped, dropped + take - out.length));
    cursor = page.nextCursor;
    if (cursor === "") break;
  }
  return { users: out, nextCursor: cursor, totalCount };
}
