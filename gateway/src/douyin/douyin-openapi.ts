/**
 * The OpenAPI 3.1 document of `/douyin`, generated from the same route
 * declarations (douyin-route-spec.ts) and zod schemas the routes are served
 * and validated with. The app API's conventions are spelled out: parameters in
 * the query (or, for POST, as form fields), the token as the `token`
 * parameter, and every answer HTTP 200 with `status_code`/`status_msg` plus the
 * route's keys, which a failure carries at empty values.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { AUTH_ERRORS, COMMON_ERRORS, ERROR_TEXT, type OpenApiDocument } from "../api/openapi.js";
import { DOUYIN_OK, emptyOf } from "./douyin-envelope.js";
import type { DouyinRoute } from "./douyin-route-spec.js";

export const DOUYIN_PREFIX = "/douyin";
/** Version of the /douyin contract in its OpenAPI document. */
export const DOUYIN_API_VERSION = "1.0.0";

const TOKEN_TEXT = "The JWT from /douyin/user/register/ or /douyin/user/login/: the app API authenticates with this parameter, not a header";
const BODY_TEXT =
  "The same parameters may be sent as form fields (or a JSON object) instead of in the query, or split between both; a name given in both places must have the same value";

/** Every status_code a route may answer, 0 first. */
function statusCodes(r: DouyinRoute): number[] {
  const failures = new Set<number>([...COMMON_ERRORS, ...(r.token === "none" ? [] : AUTH_ERRORS), ...(r.method === "post" ? [413] : []), ...(r.errors ?? [])]);
  return [DOUYIN_OK, ...[...failures].sort((a, b) => a - b)];
}

/** The route's parameters with `token` as it takes it. */
function parametersOf(r: DouyinRoute): z.ZodObject {
  if (r.token === "none") return r.params;
  const token = z.string().meta({ description: TOKEN_TEXT });
  return r.params.extend({ token: r.token === "required" ? token : token.optional() });
}

/** `{status_code, status_msg, ...the route's keys}`, with the codes this route answers. */
function envelopeOf(r: DouyinRoute, codes: readonly number[]): z.ZodObject {
  return z
    .object({
      status_code: z.int().meta({ enum: [...codes], description: "0 = ok; otherwise the failure, numbered as the HTTP status /api would answer" } as never),
      status_msg: z.string().describe('"ok", or what went wrong (each invalid parameter is named)'),
    })
    .extend(r.response.shape);
}

/** One example per failure: its status_code and the route's keys at their empty values. */
function failureExamples(r: DouyinRoute, codes: readonly number[]) {
  const examples: Record<string, { summary: string; value: Record<string, unknown> }> = {};
  for (const code of codes.filter((c) => c !== DOUYIN_OK)) {
    const text = ERROR_TEXT[code] ?? "Error";
    examples[`status_${code}`] = { summary: text, value: { status_code: code, status_msg: text, ...emptyOf(r.path) } };
  }
  return examples;
}

/** Builds the document; `version` is the app API's, not the spec's. */
export function buildDouyinOpenApiDocument(routes: readonly DouyinRoute[], version: string): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  for (const r of routes) {
    const codes = statusCodes(r);
    const params = parametersOf(r);
    registry.registerPath({
      method: r.method,
      path: DOUYIN_PREFIX + r.path,
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      request: {
        query: params as never,
        ...(r.method === "post"
          ? {
              body: {
                required: false,
                description: BODY_TEXT,
                content: { "application/x-www-form-urlencoded": { schema: params }, "application/json": { schema: params } },
              },
            }
          : {}),
      },
      responses: {
        200: {
          description: "Always HTTP 200 (also on failure, with a non-zero status_code and the route's keys at empty values)",
          content: { "application/json": { schema: envelopeOf(r, codes), examples: failureExamples(r, codes) } },
        },
      },
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "relation-suite app API (/douyin)",
      version,
      description:
        'Wire-compatible with the "simple douyin" app API (user and relation parts). Parameters in the query string or as form fields; ' +
        "the token as the `token` parameter. Every answer is HTTP 200 with `status_code` (0 = ok, otherwise the HTTP status of the " +
        "gateway's one error table: 400/401/403/404/409/413/429/500/503/504) and `status_msg`, plus the route's keys, present even on " +
        "failure with empty values. An unknown /douyin path answers HTTP 404 `{status_code: 404, status_msg}`. Every answer carries an " +
        "X-Request-Id header. Ids are integers below 2^53.",
    },
    servers: [{ url: "/" }],
    tags: [
      { name: "user", description: "Accounts, tokens and profiles" },
      { name: "relation", description: "Follow, unfollow and the relation lists" },
    ],
  });
}
