/**
 * The rules of the user API's inputs. Each returns the value to use or throws
 * INVALID_ARGUMENT naming the field and the rule, before anything is written.
 */
import { passwordFitsBcrypt, BCRYPT_MAX_PASSWORD_BYTES } from "@rs/auth";
import { invalidArgument } from "@rs/errors";
import { BATCH_GET_USERS_MAX } from "@rs/idl";

export const USERNAME_MIN_CHARS = 1;
export const USERNAME_MAX_CHARS = 32;
export const PASSWORD_MIN_CHARS = 6;
export const PASSWORD_MAX_CHARS = 32;

/** Characters are Unicode code points, what a person counts (not UTF-16 units). */
const charCount = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Control, format, unassigned, private-use and lone surrogate characters: invisible, unprintable or not Unicode at all. */
const UNPRINTABLE = /\p{C}/u;
/** Half of a UTF-16 pair without its other half: not a character, and not encodable in UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * A username: 1–32 characters, printable, no leading or trailing white space.
 * Compared byte for byte afterwards (no case folding), so it is not rewritten.
 */
export function checkUsername(username: string): string {
  const n = charCount(username);
  if (n < USERNAME_MIN_CHARS || n > USERNAME_MAX_CHARS) {
    throw invalidArgument(`username must be ${USERNAME_MIN_CHARS}-${USERNAME_MAX_CHARS} characters`);
  }
  if (UNPRINTABLE.test(username)) throw invalidArgument("username must not contain control or invisible characters");
  if (username.trim() !== username) throw invalidArgument("username must not start or end with white space");
  return username;
}

/** A password: 6–32 characters, and short enough in UTF-8 for bcrypt to read whole. */
export function checkPassword(password: string): string {
  const n = charCount(password);
  if (n < PASSWORD_MIN_CHARS || n > PASSWORD_MAX_CHARS) {
    throw invalidArgument(`password must be ${PASSWORD_MIN_CHARS}-${PASSWORD_MAX_CHARS} characters`);
  }
  if (LONE_SURROGATE.test(password)) throw invalidArgument("password must be valid Unicode");
  if (!passwordFitsBcrypt(password)) throw invalidArgument(`password must be at most ${BCRYPT_MAX_PASSWORD_BYTES} bytes in UTF-8`);
  return password;
}

/** A user id: a positive integer below 2^53. */
export function checkUserId(id: number, field = "user_id"): number {
  if (!Number.isSafeInteger(id) || id <= 0) throw invalidArgument(`${field} must be a positive integer below 2^53`);
  return id;
}

/** Up to {@link BATCH_GET_USERS_MAX} valid ids, in the order given (repeats allowed). */
export function checkUserIds(ids: readonly number[]): readonly number[] {
  if (ids.length > BATCH_GET_USERS_MAX) throw invalidArgument(`user_ids must hold at most ${BATCH_GET_USERS_MAX} ids, got ${ids.length}`);
  ids.forEach((id, i) => checkUserId(id, `user_ids[${i}]`));
  return ids;
}
