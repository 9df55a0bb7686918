/**
 * What the suite's processes promise about themselves, read from the sources
 * that define it: each process's config schema (which variables it requires)
 * and the README's table of ports. Used to check deployment files against them.
 */
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../deploy/stack/settings.js";
import { grpcServerSettings, jwtSettings, z } from "../pkg/config/src/index.js";

/** Which config schema each process validates its environment with. */
const CONFIG_SCHEMAS: Record<string, { module: string; main: string; own?: RegExp }> = {
  gateway: { module: "gateway/src/config.ts", main: "gatewayConfigSchema" },
  user: { module: "services/user/src/config.ts", main: "userConfigSchema" },
  count: { module: "services/count/src/config.ts", main: "countConfigSchema" },
  relation: { module: "services/relation/src/config.ts", main: "relationConfigSchema" },
  "relation-persister": { module: "services/relation/src/config.ts", main: "relationConfigSchema", own: /persister\w*ConfigSchema$/i },
  "count-consumer": { module: "services/count/src/config.ts", main: "countConfigSchema", own: /consumer\w*ConfigSchema$/i },
  "user-consumer": { module: "services/user/src/config.ts", main: "userConfigSchema", own: /consumer\w*ConfigSchema$/i },
};
const NOT_FOR_CONSUMERS = new Set([...Object.keys(grpcServerSettings), ...Object.keys(jwtSettings)]);

/**
 * The process's own schema; a consumer without one of its own (yet) is held to
 * its service's schema less the gRPC-server and token settings it has no use for.
 */
export async function configSchemaOf(app: string): Promise<z.ZodObject> {
  const spec = CONFIG_SCHEMAS[app];
  if (!spec) throw new Error(`no config schema known for ${app}`);
  const mod = (await import(path.join(ROOT, spec.module))) as Record<string, unknown>;
  const own = spec.own && Object.entries(mod).find(([k, v]) => spec.own!.test(k) && v instanceof z.ZodObject);
  if (own) return own[1] as z.ZodObject;
  const main = mod[spec.main];
  if (!(main instanceof z.ZodObject)) throw new Error(`${spec.module} exports no ${spec.main}`);
  if (!spec.own) return main;
  return z.object(Object.fromEntries(Object.entries(main.shape).filter(([k]) => !NOT_FOR_CONSUMERS.has(k))));
}

/** A key whose schema rejects `undefined` must be set. */
export const requiredKeys = (schema: z.ZodObject) =>
  Object.entries(schema.shape)
    .filter(([, s]) => !(s as z.ZodType).safeParse(undefined).success)
    .map(([k]) => k);

/** The README's "What runs where" rows: process → port and the variable that moves it. */
export function readmePorts() {
  const rows = fs
    .readFileSync(path.join(ROOT, "README.md"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("|"))
    .map((l) => l.split("|").map((c) => c.trim()));
  const row = (prefix: string) => rows.find((r) => r[1]?.startsWith(prefix));
  const portOf = (name: string) => {
    const r = row(`${name} (`);
    const m = r?.[2]?.match(/:(\d+)$/);
    if (!r || !m) throw new Error(`README has no port row for ${name}`);
    return { port: Number(m[1]), variable: r[3]!.replaceAll("`", "") };
  };
  const admin = row("admin")?.[2]?.match(/:(\d+)[–-](\d+)$/);
  if (!admin) throw new Error("README has no admin port range");
  return {
    listen: { gateway: portOf("gateway"), user: portOf("user"), count: portOf("count"), relation: portOf("relation") } as Record<
      string,
      { port: number; variable: string }
    >,
    admin: { from: Number(admin[1]), to: Number(admin[2]) },
  };
}
