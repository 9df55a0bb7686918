/**
 * Validated configuration from the environment.
 *
 * Every service describes its settings as a zod object whose keys are the
 * environment variables themselves, each with a `.describe()` doc. A bad or
 * missing value stops the process with one line per variable that is wrong.
 */
export { loadConfig, ConfigError, type ConfigIssue } from "./load.js";
export * as env from "./fields.js";
export * from "./common.js";
export { z } from "zod";
