/**
 * Opaque keyset cursors for newest-first lists (following, fans, friends).
 *
 * A cursor names the last item a client has seen, as (timeMs, id); the next page
 * holds the items strictly after it in the order (timeMs desc, id desc). The
 * same cursor works for a page served from Redis and for one served from a
 * shard, because both order by exactly that pair (ids numerically).
 *
 * Wire form: base64url (no padding) of 17 bytes: a format byte, then timeMs and
 * id as unsigned 64-bit big-endian integers. Decoding accepts only the canonical
 * form, so one position has one spelling and garbage never reaches a query.
 */

/** A position in a newest-first list: the last item already returned. */
export interface CursorPosition {
  /** When the listed edge was created, unix ms. */
  readonly timeMs: number;
  /** The listed user's id. */
  readonly id: number;
}

/** A cursor string that is not one this service issued; handlers answer INVALID_ARGUMENT. */
export class InvalidCursorError extends Error {
  constructor(reason: string) {
    super(`invalid cursor: ${reason}`);
    this.name = "InvalidCursorError";
  }
}

/** Format byte of the current layout; a new layout gets a new byte. */
export const CURSOR_FORMAT_V1 = 1;
const CURSOR_BYTES = 1 + 8 + 8;
/** Longest text we even look at, so a huge parameter costs nothing to refuse. */
const CURSOR_MAX_TEXT = 64;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function assertPosition(pos: CursorPosition): void {
  if (!Number.isSafeInteger(pos.timeMs) || pos.timeMs <= 0) throw new RangeError(`cursor timeMs must be a positive safe integer, got ${pos.timeMs}`);
  if (!Number.isSafeInteger(pos.id) || pos.id <= 0) throw new RangeError(`cursor id must be a positive safe integer, got ${pos.id}`);
}

/** Encodes a position as an opaque cursor string. Throws RangeError on a position no list can hold. */
export function encodeCursor(pos: CursorPosition): string {
  assertPosition(pos);
  const buf = Buffer.alloc(CURSOR_BYTES);
  buf.writeUInt8(CURSOR_FORMAT_V1, 0);
  buf.writeBigUInt64BE(BigInt(pos.timeMs), 1);
  buf.writeBigUInt64BE(BigInt(pos.id), 9);
  return buf.toString("base64url");
}

/** Decodes a cursor issued by {@link encodeCursor}; anything else throws {@link InvalidCursorError}. */
export function decodeCursor(text: string): CursorPosition {
  if (typeof text !== "string" || text.length === 0 || text.length > CURSOR_MAX_TEXT || !BASE64URL.test(text)) {
    throw new InvalidCursorError("not a cursor");
  }
  const buf = Buffer.from(text, "base64url");
  // Node's decoder skips junk silently; re-encoding proves the text was canonical.
  if (buf.length !== CURSOR_BYTES || buf.toString("base64url") !== text) throw new InvalidCursorError("not a cursor");
  if (buf.readUInt8(0) !== CURSOR_FORMAT_V1) throw new InvalidCursorError("unknown format");
  const timeMs = buf.readBigUInt64BE(1);
  const id = buf.readBigUInt64BE(9);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (timeMs === 0n || id === 0n || timeMs > max || id > max) throw new InvalidCursorError("position out of range");
  return { timeMs: Number(timeMs), id: Number(id) };
}

/** Like {@link decodeCursor}, but the empty string (first page) gives `undefined`. */
export function decodeOptionalCursor(text: string | undefined): CursorPosition | undefined {
  return text === undefined || text === "" ? undefined : decodeCursor(text);
}

/** Newest-first order: negative when `a` comes before `b` (later time, then higher id). */
export function compareNewestFirst(a: CursorPosition, b: CursorPosition): number {
  if (a.timeMs !== b.timeMs) return b.timeMs - a.timeMs;
  return b.id - a.id;
}

/** True when `item` comes strictly after `cursor` in newest-first order (belongs to a later page). */
export function isAfterCursor(item: CursorPosition, cursor: CursorPosition): boolean {
  return compareNewestFirst(cursor, item) < 0;
}
