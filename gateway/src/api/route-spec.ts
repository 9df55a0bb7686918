/**
 * One declaration per `/api` route: its parameters, body and answer as zod
 * schemas, and its handler. The Express routes and the OpenAPI document are both
 * built from these declarations, so the document lists exactly what is served and
 * validates with exactly what is checked.
 */
import type { Request, RequestHandler, Response, Router } from "express";
import { z } from "zod";
import { raiseHeldRefusal, requirePrincipal, type Principal } from "../http/auth.js";
import { sendJson } from "../http/send-json.js";
import { parseInput } from "../http/validate.js";

export type HttpMethod = "get" | "post";

/** What a handler gets: parsed input and the caller. */
export interface RouteContext<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly req: Request;
  readonly res: Response;
  /** The verified caller; UNAUTHENTICATED on a public route. */
  me(): Principal;
}

export interface ApiRoute<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly method: HttpMethod;
  /** Express path below /api, e.g. `/user/:userId`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: "user" | "relation" | "count";
  /** `bearer`: a valid token is required (and the per-user limit applies). */
  readonly auth: "bearer" | "none";
  /** `credentials`: register/login, which share a small per-address bucket. */
  readonly limit?: "credentials";
  readonly params?: P;
  /** Every query string is checked: unknown parameters are refused. Default: none allowed. */
  readonly query?: Q;
  readonly body?: B;
  readonly response: R;
  readonly status?: 200 | 201;
  /** Statuses this route answers besides 200/201 and the ones every route may answer. */
  readonly errors?: readonly number[];
  handle(ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<z.input<R>>;
}

/** Keeps the handler's types tied to the route's schemas. */
export const defineRoute = <P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType>(
  route: ApiRoute<P, Q, B, R>,
): ApiRoute => route as unknown as ApiRoute;

const NO_QUERY = z.strictObject({});

/** The middlewares a route may need, made once per app. */
export interface RouteGuards {
  /** A public route's first step: the address bucket. */
  readonly address: RequestHandler;
  /** A signed-in route's first step: address bucket, token and user bucket; a refused token is held until after the body. */
  readonly signedIn: RequestHandler;
  /** Body parsing: after the address bucket, so a client over its limit costs no parsing. */
  readonly body: readonly RequestHandler[];
  readonly credentialsLimit: RequestHandler;
}

/** Adds each route to `router` with its guards, input validation and JSON answer. */
export function mountRoutes(router: Router, routes: readonly ApiRoute[], guards: RouteGuards): void {
  for (const route of routes) {
    const chain: RequestHandler[] = route.auth === "bearer" ? [guards.signedIn, ...guards.body, raiseHeldRefusal] : [guards.address, ...guards.body];
    if (route.limit === "credentials") chain.push(guards.credentialsLimit);
    chain.push(async (req, res) => {
      const params = route.params ? parseInput(route.params, { ...req.params }) : undefined;
      const query = parseInput(route.query ?? NO_QUERY, { ...(req.query as object) });
      const body = route.body ? parseInput(route.body, req.body ?? {}) : undefined;
      const out = await route.handle({ params, query, body, req, res, me: () => requirePrincipal(res) });
      sendJson(res, route.status ?? 200, out);
    });
    router[route.method](route.path, ...chain);
  }
}

/** `/user/:userId` → `/user/{userId}` */
export const openApiPath = (expressPath: string): string => expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}");
