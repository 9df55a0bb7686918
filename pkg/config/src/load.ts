import type { z } from "zod";

/** One wrong setting: the variable and what is wrong with it. */
export interface ConfigIssue {
  readonly variable: string;
  readonly message: string;
}

/** Thrown when the environment does not satisfy a config schema. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super("invalid configuration:\n" + issues.map((i) => `  ${i.variable}: ${i.message}`).join("\n"));
    this.name = "ConfigError";
  }
}

/**
 * Parses `source` (default `process.env`) with `schema` and returns the typed
 * result, or throws a {@link ConfigError} naming every wrong variable. Values are
 * never echoed back: a DSN or a secret may be what is wrong.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, source: Record<string, string | undefined> = process.env): z.infer<S> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = source[key];
    input[key] = value === "" ? undefined : value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    variable: String(issue.path[0] ?? "(config)"),
    message: issue.message,
  }));
  throw new ConfigError(issues);
}
