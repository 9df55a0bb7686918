/**
 * Input checks of the relation RPCs: everything a client sends is checked
 * here, and anything out of range is INVALID_ARGUMENT naming the field.
 */
import { invalidArgument } from "@rs/errors";
import { assertDecoded } from "@rs/grpc";
import { BATCH_IS_FOLLOWING_MAX, LIST_LIMIT_MAX, LIST_LIMIT_MIN } from "@rs/idl";
import { decodeOptionalCursor, InvalidCursorError, type CursorPosition } from "../domain/cursor.js";
import { isUserId } from "../domain/relation-transition.js";

const notAUserId = (field: string) => invalidArgument(`${field} must be a positive integer below 2^53`);

/** A user id: a positive integer below 2^53. */
export function userId(field: string, value: unknown): number {
  if (!isUserId(value)) throw notAUserId(field);
  return value;
}

/** An optional viewer: 0 means none, anything else must be a user id. */
export function viewerId(field: string, value: unknown): number {
  return value === 0 ? 0 : userId(field, value);
}

export function listLimit(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < LIST_LIMIT_MIN || value > LIST_LIMIT_MAX) {
    throw invalidArgument(`limit must be an integer from ${LIST_LIMIT_MIN} to ${LIST_LIMIT_MAX}`);
  }
  return value;
}

export function cursor(value: unknown): CursorPosition | undefined {
  if (typeof value !== "string") throw invalidArgument("cursor must be a string");
  try {
    return decodeOptionalCursor(value);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw invalidArgument(`cursor is not one this service issued (${err.message})`);
    throw err;
  }
}

export function targetIds(value: unknown): number[] {
  if (!Array.isArray(value)) throw invalidArgument("to_user_ids must be a list");
  if (value.length > BATCH_IS_FOLLOWING_MAX) throw invalidArgument(`to_user_ids may hold at most ${BATCH_IS_FOLLOWING_MAX} ids, got ${value.length}`);
  // the field's name is built for the first refused id only, not for each of up to 1 000 ids
  const bad = value.findIndex((v) => !isUserId(v));
  if (bad >= 0) throw notAUserId(`to_user_ids[${bad}]`);
  return value as number[];
}

/** Common checks of a list request. */
export function pageRequest(req: { userId: unknown; cursor: unknown; limit: unknown; viewerId: unknown }) {
  assertDecoded(req);
  return {
    user: userId("user_id", req.userId),
    page: { cursor: cursor(req.cursor), limit: listLimit(req.limit), viewer: viewerId("viewer_id", req.viewerId) },
  };
}
