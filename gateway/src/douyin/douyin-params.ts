import type { Request } from "express";
import { z } from "zod";
import { invalidArgument } from "@rs/errors";
import { passwordSchema, userIdSchema, usernameSchema } from "../http/params.js";

/**
 * The app API sends parameters in the query string, as form fields, or both.
 * They are merged; a name given in both places with different values is refused
 * rather than guessed. The result has no prototype, so `__proto__` stays data.
 */
export function douyinParams(req: Request): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) out[k] = v;
  const body: unknown = req.body;
  if (body === undefined || body === null) return out;
  if (typeof body !== "object" || Array.isArray(body)) throw invalidArgument("the body must be form fields or a JSON object");
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k in out && !sameScalar(out[k], v)) throw invalidArgument(`${k.slice(0, MAX_NAME_SHOWN)}: given twice with different values`);
    out[k] = v;
  }
  return out;
}

const MAX_NAME_SHOWN = 32;
const sameScalar = (a: unknown, b: unknown) =>
  (typeof a === "string" || typeof a === "number") && (typeof b === "string" || typeof b === "number") && String(a) === String(b);

/** `action_type` of /douyin/relation/action/. */
export const ACTION_FOLLOW = 1;
export const ACTION_UNFOLLOW = 2;

// Unknown parameters are ignored (apps send extras); every known one is checked.
export const credentialsParams = z.object({ username: usernameSchema(), password: passwordSchema() });
export const userParams = z.object({ user_id: userIdSchema("Whose profile; default: the caller's (needs a token)").optional() });
export const relationActionParams = z.object({
  to_user_id: userIdSchema("The user to follow or unfollow"),
  action_type: z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const n = String(v) === String(ACTION_FOLLOW) ? ACTION_FOLLOW : String(v) === String(ACTION_UNFOLLOW) ? ACTION_UNFOLLOW : undefined;
      if (n === undefined) {
        ctx.addIssue({ code: "custom", message: `must be ${ACTION_FOLLOW} (follow) or ${ACTION_UNFOLLOW} (unfollow)` });
        return z.NEVER;
      }
      return n;
    })
    .meta({ type: "integer", enum: [ACTION_FOLLOW, ACTION_UNFOLLOW], description: `${ACTION_FOLLOW} = follow, ${ACTION_UNFOLLOW} = unfollow` } as never),
  /** Older app versions also send the acting user's id; it must be the caller's. */
  user_id: userIdSchema("The acting user, as older apps send it; must be the caller").optional(),
});
export const listParams = z.object({ user_id: userIdSchema("Whose list; default: the caller's").optional() });
