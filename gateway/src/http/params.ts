/**
 * Parameter schemas shared by both HTTP families. Query strings and form fields
 * arrive as strings, JSON bodies as numbers; every field accepts both spellings
 * and nothing else (no `1e3`, no `0x10`, no blanks, no fractions).
 */
import { z } from "zod";

/** Ids are positive integers below 2^53 (docs/design.md §2), at most 16 decimal digits. */
const ID_TEXT = /^[1-9][0-9]{0,15}$/;
const INT_TEXT = /^(0|-?[1-9][0-9]{0,15})$/;
/** Opaque cursors are base64url; the service decides whether one is valid. */
const CURSOR_TEXT = /^[A-Za-z0-9_-]{1,128}$/;

/** A user id, from a number or its decimal text. */
export const userIdSchema = (description = "User id") =>
  z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const n = typeof v === "number" ? v : ID_TEXT.test(v) ? Number(v) : Number.NaN;
      if (!Number.isSafeInteger(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: "must be a positive integer id below 2^53" });
        return z.NEVER;
      }
      return n;
    })
    .meta({ type: "integer", format: "int64", minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description, example: 1024 } as never);

/** An integer in [min, max], from a number or its decimal text. */
export const intSchema = (min: number, max: number, description: string) =>
  z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const n = typeof v === "number" ? v : INT_TEXT.test(v) ? Number(v) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    })
    .meta({ type: "integer", minimum: min, maximum: max, description } as never);

/** An opaque list cursor; absent or empty means the first page. */
export const cursorSchema = () =>
  z
    .string()
    .max(128)
    .refine((s) => s === "" || CURSOR_TEXT.test(s), "must be a cursor returned by a previous page")
    .meta({ description: "Opaque cursor from the previous page's nextCursor; omit for the first page" });

/** Text without control characters, `min`..`max` characters long (code points, not UTF-16 units). */
export const textSchema = (min: number, max: number, description: string) =>
  z
    .string()
    .refine((s) => {
      const n = [...s].length;
      return n >= min && n <= max;
    }, `must be ${min} to ${max} characters`)
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "must not contain control characters")
    .meta({ description, minLength: min, maxLength: max } as never);

/** Username and password rules of the user service (issue 3), checked here too so junk never leaves the gateway. */
export const USERNAME_LENGTH = { min: 1, max: 32 } as const;
export const PASSWORD_LENGTH = { min: 6, max: 32 } as const;
export const usernameSchema = () => textSchema(USERNAME_LENGTH.min, USERNAME_LENGTH.max, "Unique user name");
/** Any characters (the user service checks what bcrypt can take); only the length is checked here. */
export const passwordSchema = () =>
  z
    .string()
    .refine((s) => {
      const n = [...s].length;
      return n >= PASSWORD_LENGTH.min && n <= PASSWORD_LENGTH.max;
    }, `must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters`)
    .meta({ description: "Password", minLength: PASSWORD_LENGTH.min, maxLength: PASSWORD_LENGTH.max } as never);
