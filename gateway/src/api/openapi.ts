/**
 * The OpenAPI 3.1 document of `/api`, generated from the same route
 * declarations (and zod schemas) the routes are served and validated with.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from "@asteasolutions/zod-to-openapi";
import { ErrorBody } from "./api-schemas.js";
import { openApiPath, type ApiRoute } from "./route-spec.js";

export const API_PREFIX = "/api";
export const OPENAPI_PATH = "/openapi.json";
export const DOCS_PATH = "/docs";

/** Failures every route may answer: bad input, throttled, internal, a service down or slow. */
export const COMMON_ERRORS = [400, 429, 500, 503, 504] as const;
/** Failures of every route that needs a token. */
export const AUTH_ERRORS = [401] as const;

export const ERROR_TEXT: Readonly<Record<number, string>> = {
  400: "Invalid parameter or body (each problem is named)",
  401: "Missing, invalid, expired or revoked token (or wrong credentials)",
  403: "The request acts for another user",
  404: "No such user",
  409: "Already exists",
  413: "Body too large",
  429: "Rate limited; see Retry-After",
  500: "Internal error",
  503: "A service or a dependency is unavailable; retry later",
  504: "A service did not answer in time",
};

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31["generateDocument"]>;

/** Builds the document; `version` is the API's, not the spec's. */
export function buildOpenApiDocument(routes: readonly ApiRoute[], version: string): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  // Schemas with a meta `id` (ErrorBody is "Error") become components and are referenced by $ref.
  const errorRef = ErrorBody;

  for (const r of routes) {
    const statuses = new Set<number>([...COMMON_ERRORS, ...(r.auth === "bearer" ? AUTH_ERRORS : []), ...(r.body ? [413] : []), ...(r.errors ?? [])]);
    const responses: RouteConfig["responses"] = {
      [r.status ?? 200]: { description: "OK", content: { "application/json": { schema: r.response } } },
    };
    for (const s of [...statuses].sort((a, b) => a - b)) {
      responses[s] = { description: ERROR_TEXT[s] ?? "Error", content: { "application/json": { schema: errorRef } } };
    }
    registry.registerPath({
      method: r.method,
      path: API_PREFIX + openApiPath(r.path),
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      security: r.auth === "bearer" ? [{ [bearer.name]: [] }] : [],
      request: {
        // The declarations hold z.ZodType; the registry wants the object schemas they are.
        ...(r.params ? { params: r.params as never } : {}),
        ...(r.query ? { query: r.query as never } : {}),
        ...(r.body ? { body: { required: true, content: { "application/json": { schema: r.body } } } } : {}),
      },
      responses,
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "relation-suite gateway API",
      version,
      description:
        "The project's own JSON API. Every answer carries an X-Request-Id header. Ids are integers below 2^53. " +
        "Errors are `{error, code, requestId}` with the HTTP status of one table (400/401/403/404/409/429/500/503/504). " +
        "The app-compatible `/douyin/...` family has its own document, `/douyin/openapi.json` (selectable on the docs page).",
    },
    servers: [{ url: "/" }],
    tags: [
      { name: "user", description: "Accounts, tokens and profiles" },
      { name: "relation", description: "Follows, lists and checks" },
      { name: "count", description: "Counters" },
    ],
  });
}
