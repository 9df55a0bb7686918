/** Checks shared by the tests of the gateway's OpenAPI documents. */
import { Validator } from "@seriousme/openapi-schema-validator";
import type { Router } from "express";
import { expect } from "vitest";
import { openApiPath } from "../../src/api/route-spec.js";

/** What an Express router really serves: `METHOD <prefix>/path` for every route layer. */
export function servedRoutes(router: Router, prefix: string): string[] {
  const stack = (router as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> }).stack;
  return stack
    .filter((l) => l.route)
    .flatMap((l) =>
      Object.keys(l.route!.methods)
        .filter((m) => m !== "_all")
        .map((m) => `${m.toUpperCase()} ${prefix}${openApiPath(l.route!.path)}`),
    );
}

/** `METHOD /path` and the operation, for every operation of a document. */
export function operationsOf<O>(doc: { paths?: unknown }): Array<{ key: string; op: O }> {
  const paths = doc.paths as Record<string, Record<string, O>>;
  return Object.entries(paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));
}

/** The document is valid OpenAPI 3.1 (by the JSON schema of the spec). */
export async function expectValidOpenApi31(doc: unknown): Promise<void> {
  const validator = new Validator();
  const result = await validator.validate(JSON.parse(JSON.stringify(doc)) as Parameters<Validator["validate"]>[0]);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe("3.1");
}

/** Every `$ref` points at a component schema; returns the names referenced. */
export function expectRefsResolve(doc: { components?: { schemas?: unknown } }): string[] {
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
  const schemas = Object.keys((doc.components?.schemas ?? {}) as object);
  for (const r of refs) expect(schemas).toContain(r);
  return refs;
}
