/**
 * Offset windows over the relation service's keyset-paged lists: the
 * `page`/`pageSize` routes and the app API's unpaged lists are served by
 * walking cursors (never an OFFSET query). The caller bounds the depth
 * (`PAGE_MAX_OFFSET`, `DOUYIN_LIST_MAX`); one deadline bounds the whole walk.
 */
import { Code, isStatusError, StatusError } from "@rs/errors";
import { LIST_LIMIT_MAX, type relationV1 } from "@rs/idl";

/** Pages tolerated beyond the minimum, for pages that come back short (e.g. friends filtered after the keyset scan). */
const SHORT_PAGE_ALLOWANCE = 10;

export interface ListPage {
  readonly users: relationV1.RelationUser[];
  readonly nextCursor: string;
  readonly totalCount: number;
}

/** Fetches one page of a list from `cursor` ("" = the start), within `deadlineMs`. */
export type PageFetch = (cursor: string, limit: number, deadlineMs: number) => Promise<ListPage>;

/** The settings a walk's deadlines come from. */
export interface WalkSettings {
  /** One deadline for every call of a walk. */
  readonly LIST_WALK_DEADLINE_MS: number;
  /** The deadline of any single call. */
  readonly GRPC_DEADLINE_MS: number;
}

/** How a walk over its deadline is answered (504). */
export const walkTooLong = (budgetMs: number, cause?: unknown): StatusError =>
  Object.assign(new StatusError(Code.DEADLINE_EXCEEDED, `listing took longer than ${budgetMs} ms; ask for a shallower page or use the cursor route`), {
    cause,
  });

/**
 * Items `skip` .. `skip + take - 1` of a list (newest first), the list's total,
 * and the cursor after the last item read ("" at the end of the list). Every
 * call gets what is left of `LIST_WALK_DEADLINE_MS` (at most
 * `GRPC_DEADLINE_MS`); past it the walk stops with DEADLINE_EXCEEDED.
 */
export async function readWindow(fetch: PageFetch, skip: number, take: number, settings: WalkSettings): Promise<ListPage> {
  const budgetMs = settings.LIST_WALK_DEADLINE_MS;
  const deadline = Date.now() + budgetMs;
  const out: relationV1.RelationUser[] = [];
  let cursor = "";
  let skipLeft = skip;
  let totalCount = 0;
  const maxPages = Math.ceil((skip + take) / LIST_LIMIT_MAX) + SHORT_PAGE_ALLOWANCE;
  for (let pages = 0; pages < maxPages && out.length < take; pages++) {
    const limit = Math.min(LIST_LIMIT_MAX, skipLeft + take - out.length);
    const left = deadline - Date.now();
    if (left <= 0) throw walkTooLong(budgetMs);
    const page = await fetch(cursor, limit, Math.min(left, settings.GRPC_DEADLINE_MS)).catch((err: unknown) => {
      throw isStatusError(err) && err.code === Code.DEADLINE_EXCEEDED && Date.now() >= deadline ? walkTooLong(budgetMs, err) : err;
    });
    totalCount = page.totalCount;
    const dropped = Math.min(skipLeft, page.users.length);
    skipLeft -= dropped;
    out.push(...page.users.slice(dropped, dropped + take - out.length));
    cursor = page.nextCursor;
    if (cursor === "") break;
  }
  return { users: out, nextCursor: cursor, totalCount };
}
