/**
 * Reads docker-compose.yml and the files it includes the way Compose does, far
 * enough for tests that run where no Docker engine (or CLI) is: YAML anchors and
 * merge keys resolved, `include:` files loaded, `${VAR...}` interpolated.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import draft07 from "ajv/dist/refs/json-schema-draft-07.json" with { type: "json" };
import { parse } from "yaml";
import { ROOT } from "../deploy/stack/settings.js";

export { ROOT };
export const COMPOSE_FILE = path.join(ROOT, "docker-compose.yml");

export interface HealthCheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
}

export interface DependsOn {
  condition?: string;
}

/** The parts of a service the tests read; everything else stays `unknown`. */
export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, DependsOn> | string[];
  healthcheck?: HealthCheck;
  ports?: (string | { target: number; published?: string | number })[];
  restart?: string;
  volumes?: (string | Record<string, unknown>)[];
  [key: string]: unknown;
}

export interface ComposeDocument {
  include?: (string | { path: string | string[] })[];
  services?: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ComposeFile {
  /** Absolute path. */
  readonly file: string;
  readonly doc: ComposeDocument;
}

/** Parses one Compose file: YAML 1.1 merge keys (`<<`) are resolved, as Compose does. */
export function readComposeFile(file: string): ComposeFile {
  const doc = parse(fs.readFileSync(file, "utf8"), { merge: true, maxAliasCount: -1 }) as ComposeDocument;
  return { file, doc };
}

function includePaths(doc: ComposeDocument): string[] {
  return (doc.include ?? []).flatMap((entry) => {
    if (typeof entry === "string") return [entry];
    return Array.isArray(entry.path) ? entry.path : [entry.path];
  });
}

/** The root file and, depth first, every file it includes (paths relative to the including file). */
export function loadComposeFiles(root = COMPOSE_FILE): ComposeFile[] {
  const out: ComposeFile[] = [];
  const visit = (file: string) => {
    if (out.some((f) => f.file === file)) throw new Error(`${file} is included twice`);
    const loaded = readComposeFile(file);
    out.push(loaded);
    for (const p of includePaths(loaded.doc)) visit(path.resolve(path.dirname(file), p));
  };
  visit(root);
  return out;
}

/** Every service of the project; a name defined twice is an error, as in Compose's `include`. */
export function mergeServices(files: readonly ComposeFile[]): Record<string, ComposeService & { definedIn: string }> {
  const services: Record<string, ComposeService & { definedIn: string }> = {};
  for (const { file, doc } of files) {
    for (const [name, svc] of Object.entries(doc.services ?? {})) {
      if (services[name]) throw new Error(`service ${name} is defined in ${services[name].definedIn} and ${file}`);
      services[name] = { ...svc, definedIn: file };
    }
  }
  return services;
}

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, `$VAR`, `$$`.
 * A required variable that is missing throws with its message, as Compose stops.
 */
export function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(VARIABLE, (match, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (match === "$$") return "$";
    const name = (braced ?? bare)!;
    const v = vars[name];
    const unset = v === undefined;
    const empty = unset || v === "";
    switch (op) {
      case undefined:
        return v ?? "";
      case ":-":
        return empty ? (arg ?? "") : v!;
      case "-":
        return unset ? (arg ?? "") : v!;
      case ":?":
      case "?":
        if (op === ":?" ? empty : unset) throw new Error(`required variable ${name} is missing a value: ${arg ?? ""}`);
        return v!;
      case ":+":
        return empty ? "" : (arg ?? "");
      case "+":
        return unset ? "" : (arg ?? "");
      default:
        throw new Error(`unsupported interpolation ${match}`);
    }
  });
}

/** Every `${VAR...}` / `$VAR` reference in a string (not `$$`), with its operator and argument. */
export function variableReferences(value: string): { name: string; op?: string; arg?: string }[] {
  return [...value.matchAll(VARIABLE)].flatMap((m) => {
    const name = m[1] ?? m[4];
    return name ? [{ name, ...(m[2] !== undefined ? { op: m[2], arg: m[3] ?? "" } : {}) }] : [];
  });
}

/** Every string anywhere in a parsed document (keys not included). */
export function stringsIn(node: unknown): string[] {
  if (typeof node === "string") return [node];
  if (Array.isArray(node)) return node.flatMap(stringsIn);
  if (node && typeof node === "object") return Object.values(node).flatMap(stringsIn);
  return [];
}

/** A service's environment as strings, before interpolation (list or map form). */
export function rawEnvironment(svc: ComposeService): Record<string, string> {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((kv) => [kv.split("=")[0]!, kv.slice(kv.indexOf("=") + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

/** A service's `depends_on` in the long form (a short-form list has no conditions). */
export function dependencies(svc: ComposeService): Record<string, DependsOn> {
  const deps = svc.depends_on ?? {};
  return Array.isArray(deps) ? Object.fromEntries(deps.map((d) => [d, {}])) : deps;
}

/** The command as an argv list (string commands are split on blanks, enough for these files). */
export function argv(command: ComposeService["command"]): string[] {
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.trim().split(/\s+/);
}

/**
 * The official Compose Specification JSON schema, as the `dclint` package ships
 * it (`schemas/compose.schema.json`, copied from compose-spec/compose-spec's
 * `schema/compose-spec.json`), compiled with ajv. The schema names the draft-07
 * meta-schema by its https URL, which ajv registers under http; both are the same.
 */
export function composeSchemaValidator(): ValidateFunction {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve("dclint/package.json"));
  const schema = JSON.parse(fs.readFileSync(path.join(dir, "schemas", "compose.schema.json"), "utf8")) as { $schema?: string; title?: string };
  if (schema.title !== "Compose Specification") throw new Error("dclint no longer ships the Compose Specification schema");
  // strict: false because the upstream schema uses union types and the like that
  // ajv's strict mode flags; that is about the schema's style, not our files.
  const ajv = new Ajv({ allErrors: true, strict: false });
  if (schema.$schema && schema.$schema !== draft07.$id) ajv.addMetaSchema({ ...draft07, $id: schema.$schema });
  return ajv.compile(schema);
}
