/**
 * The request ids a piece of work belongs to, carried with it through async
 * calls (AsyncLocalStorage), with or without tracing. The gateway sets one per
 * HTTP request, a gRPC server per call (from the `x-request-id` metadata), a
 * Kafka consumer per batch (from the records' headers, possibly several ids);
 * the logger adds them to every line written inside, and outgoing gRPC calls
 * and published records carry them on.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** The HTTP header, gRPC metadata key and Kafka record header of the id. */
export const REQUEST_ID_HEADER = "x-request-id";

/** What an id may look like; anything else is not taken from a caller. */
const ACCEPTED = /^[A-Za-z0-9._-]{1,64}$/;
/** Most ids one Kafka header (a record that folds several requests) or one log line lists. */
export const MAX_REQUEST_IDS = 32;
/** Separator of several ids in one header value (never part of an id). */
const SEPARATOR = ",";

const NONE: readonly string[] = Object.freeze([]);
const storage = new AsyncLocalStorage<readonly string[]>();

export const isRequestId = (value: unknown): value is string => typeof value === "string" && ACCEPTED.test(value);

/** Runs `fn` with `ids` as the current request ids (none: the context is cleared). */
export function withRequestIds<T>(ids: readonly string[], fn: () => T): T {
  return storage.run(ids.length > 0 ? ids : NONE, fn);
}

/** Runs `fn` as part of the request `id` (undefined: of no request). */
export const withRequestId = <T>(id: string | undefined, fn: () => T): T => withRequestIds(id === undefined ? NONE : [id], fn);

/** The ids of the work running now; empty outside any request. */
export const currentRequestIds = (): readonly string[] => storage.getStore() ?? NONE;

/** The id of the request running now, when it is exactly one. */
export function currentRequestId(): string | undefined {
  const ids = storage.getStore();
  return ids?.length === 1 ? ids[0] : undefined;
}

/** Distinct well-formed ids, in first-seen order, at most `max`. */
export function distinctRequestIds(ids: Iterable<string>, max: number = MAX_REQUEST_IDS): string[] {
  const out = new Set<string>();
  for (const id of ids) {
    if (out.size >= max) break;
    if (isRequestId(id)) out.add(id);
  }
  return [...out];
}

/** One header value for `ids` (comma-separated), or undefined when there are none. */
export function formatRequestIds(ids: readonly string[]): string | undefined {
  const list = distinctRequestIds(ids);
  return list.length > 0 ? list.join(SEPARATOR) : undefined;
}

/** The well-formed ids of a header or metadata value (one id or a comma-separated list). */
export function parseRequestIds(value: unknown): string[] {
  const values = Array.isArray(value) ? (value as unknown[]) : [value];
  return distinctRequestIds(values.flatMap((v) => (typeof v === "string" || Buffer.isBuffer(v) ? v.toString().split(SEPARATOR) : [])));
}

/** What the logger adds to a line: `request_id` for one id, `request_ids` for several, nothing outside a request. */
export function requestIdFields(): { request_id?: string; request_ids?: readonly string[] } {
  const ids = storage.getStore();
  if (!ids || ids.length === 0) return {};
  return ids.length === 1 ? { request_id: ids[0]! } : { request_ids: ids };
}
