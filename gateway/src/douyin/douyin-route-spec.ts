/**
 * One declaration per `/douyin` route: its parameters (query or form), how it
 * takes the token, the keys of its answer, and its handler. The Express routes
 * and the OpenAPI document (douyin-openapi.ts) are both built from these
 * declarations, so the document lists exactly what is served.
 */
import type { Request, RequestHandler, Response, Router } from "express";
import type { z } from "zod";
import type { HttpMethod } from "../api/route-spec.js";
import { parseInput } from "../http/validate.js";
import { douyinOk } from "./douyin-envelope.js";
import { douyinParams } from "./douyin-params.js";

export interface DouyinRoute<P extends z.ZodObject = z.ZodObject, R extends z.ZodObject = z.ZodObject> {
  readonly method: HttpMethod;
  /** Express path below /douyin, with the trailing slash the app sends, e.g. `/user/register/`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: "user" | "relation";
  /** `required`: a valid `token` parameter is needed; `optional`: verified when present; `none`: not read. */
  readonly token: "required" | "optional" | "none";
  /** `credentials`: register/login, which share a small per-address bucket. */
  readonly limit?: "credentials";
  /** The route's parameters besides `token` (unknown ones are ignored: apps send extras). */
  readonly params: P;
  /** The route's keys besides `status_code`/`status_msg`; a failure carries them at empty values. */
  readonly response: R;
  /** `status_code`s this route answers besides 0 and the ones every route may answer. */
  readonly errors?: readonly number[];
  handle(params: z.output<P>, req: Request, res: Response): Promise<z.input<R>>;
}

/** Keeps the handler's types tied to the route's schemas. */
export const defineDouyinRoute = <P extends z.ZodObject, R extends z.ZodObject>(route: DouyinRoute<P, R>): DouyinRoute => route as unknown as DouyinRoute;

/** The middlewares a route may need, made once per router. */
export interface DouyinGuards {
  readonly signedIn: readonly RequestHandler[];
  readonly maybeSignedIn: readonly RequestHandler[];
  readonly credentialsLimit: RequestHandler;
}

/** Adds each route to `router` with its guards, parameter validation and enveloped answer. */
export function mountDouyinRoutes(router: Router, routes: readonly DouyinRoute[], guards: DouyinGuards): void {
  for (const route of routes) {
    const chain: RequestHandler[] = [];
    if (route.limit === "credentials") chain.push(guards.credentialsLimit);
    if (route.token === "required") chain.push(...guards.signedIn);
    if (route.token === "optional") chain.push(...guards.maybeSignedIn);
    chain.push(async (req, res) => {
      const params = parseInput(route.params, douyinParams(req));
      douyinOk(res, (await route.handle(params, req, res)) as Record<string, unknown>);
    });
    router[route.method](route.path, ...chain);
  }
}
