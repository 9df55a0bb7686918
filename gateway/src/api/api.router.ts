/** `/api/...`: the project's own JSON API, its OpenAPI document and docs page. */
import express, { Router, type Response } from "express";
import swaggerUi from "swagger-ui-express";
import type { TokenVerifier } from "@rs/auth";
import type { Logger } from "@rs/logger";
import type { GatewayClients } from "../clients/service-clients.js";
import { bearerAuth } from "../http/auth.js";
import { errorHandler } from "../http/error-handler.js";
import { signedInStage, type SignedInChecks } from "../http/signed-in.js";
import { familyLimiters, type LimiterFactory, type LimitSettings } from "../http/limits.js";
import { DOUYIN_PREFIX } from "../douyin/douyin-openapi.js";
import { API_PREFIX, DOCS_PATH, OPENAPI_PATH, buildOpenApiDocument } from "./openapi.js";
import { relationRoutes, type PageRouteSettings } from "./relation.routes.js";
import { mountRoutes, type ApiRoute } from "./route-spec.js";
import { userRoutes } from "./user.routes.js";

/** Version of the /api contract in the OpenAPI document. */
export const API_VERSION = "1.0.0";

/** The documents the docs page offers. */
export const DOCS_DOCUMENTS = [
  { name: "/api (JSON API)", url: API_PREFIX + OPENAPI_PATH },
  { name: "/douyin (app API)", url: DOUYIN_PREFIX + OPENAPI_PATH },
] as const;

export interface ApiDeps {
  readonly clients: GatewayClients;
  readonly verifier: TokenVerifier;
  readonly limiter: LimiterFactory;
  readonly config: LimitSettings & PageRouteSettings & { readonly HTTP_BODY_LIMIT: string };
  readonly logger: Logger;
  /** Redis and the revocation marks for the one-round-trip signed-in stage; absent: separate steps. */
  readonly signedInChecks?: SignedInChecks;
}

/** Every /api route declaration, in matching order. */
export const apiRoutes = (clients: GatewayClients, config: PageRouteSettings): ApiRoute[] => [...userRoutes(clients), ...relationRoutes(clients, config)];

const tooManyRequests = (_req: unknown, res: Response, retryAfterSeconds: number) => {
  res.setHeader("Retry-After", String(retryAfterSeconds));
  res.status(429).json({ error: "too many requests, slow down", code: "RESOURCE_EXHAUSTED", requestId: res.locals.requestId as string | undefined });
};

export function apiRouter(deps: ApiDeps): Router {
  const router = Router();
  const routes = apiRoutes(deps.clients, deps.config);
  const document = buildOpenApiDocument(routes, API_VERSION);
  const limits = familyLimiters(deps.limiter, deps.config, "api", tooManyRequests);

  const body = [express.json({ limit: deps.config.HTTP_BODY_LIMIT }), express.urlencoded({ extended: false, limit: deps.config.HTTP_BODY_LIMIT })];
  const bearer = bearerAuth(deps.verifier, deps.logger);
  const signedIn = signedInStage({
    checks: deps.signedInChecks,
    verifier: deps.verifier,
    cfg: deps.config,
    family: "api",
    onLimited: tooManyRequests,
    logger: deps.logger,
    separate: { ip: limits.ip, bearer, user: limits.user },
  });
  // Each route takes from the address bucket itself (a signed-in one in the same
  // Redis round trip as its token and user checks); body parsing comes after it,
  // so a malformed body is answered in this family's shape.
  mountRoutes(router, routes, { address: limits.ip, signedIn, body, credentialsLimit: limits.auth });
  // Everything else: the address bucket, the body, then the documents or a 404.
  router.use(limits.ip, ...body);
  router.get(OPENAPI_PATH, (_req, res) => void res.json(document));
  // Swagger UI from the swagger-ui-dist package (served locally, nothing from a CDN), with
  // both documents selectable in its top bar (/api first); validatorUrl null keeps the
  // page from sending a document to an online validator.
  router.use(
    DOCS_PATH,
    swaggerUi.serve,
    swaggerUi.setup(undefined, { customSiteTitle: "relation-suite API", explorer: true, swaggerOptions: { urls: DOCS_DOCUMENTS, validatorUrl: null } }),
  );

  router.use((_req, res) => {
    res.status(404).json({ error: "no such route", code: "NOT_FOUND", requestId: res.locals.requestId as string | undefined });
  });
  router.use(errorHandler(deps.logger));
  return router;
}
