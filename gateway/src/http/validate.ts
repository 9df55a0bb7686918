import type { z } from "zod";
import { invalidArgument } from "@rs/errors";

/** Most problems listed in one error message; the rest are counted. */
const MAX_LISTED_ISSUES = 5;
/** Parameter names are the client's text: shown, but only this much of each. */
const MAX_NAME_SHOWN = 32;
const shown = (name: string) => (name.length > MAX_NAME_SHOWN ? `${name.slice(0, MAX_NAME_SHOWN)}…` : name);

/** One line per problem, `field: what is wrong`, never echoing the value. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, MAX_LISTED_ISSUES).map((i) => {
    const field = i.path.map((p) => shown(String(p))).join(".");
    if (i.code === "unrecognized_keys") return `unknown parameter${i.keys.length > 1 ? "s" : ""}: ${i.keys.slice(0, MAX_LISTED_ISSUES).map(shown).join(", ")}`;
    if (i.code === "invalid_type" && i.input === undefined) return `${field}: is required`;
    return field ? `${field}: ${i.message}` : i.message;
  });
  const more = issues.length - lines.length;
  return lines.join("; ") + (more > 0 ? `; and ${more} more` : "");
}

/** Parses `input` with `schema` or throws INVALID_ARGUMENT (400 / status_code 400) naming each problem. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalidArgument(describeIssues(result.error.issues));
}
