import express, { type Express } from "express";
import cors from "cors";
import type { TokenVerifier } from "@rs/auth";
import type { Logger } from "@rs/logger";
import { apiRouter } from "./api/api.router.js";
import type { GatewayClients } from "./clients/service-clients.js";
import type { GatewayConfig } from "./config.js";
import { douyinRouter } from "./douyin/douyin.routes.js";
import { accessLog } from "./http/access-log.js";
import { errorHandler } from "./http/error-handler.js";
import type { LimiterFactory } from "./http/limits.js";
import { requestId } from "./http/request-id.js";
import type { SignedInChecks } from "./http/signed-in.js";

/** What the HTTP API is built from; the process wires the real ones, tests may pass their own. */
export interface AppDeps {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly clients: GatewayClients;
  readonly verifier: TokenVerifier;
  readonly limiter: LimiterFactory;
  /** Redis and the revocation marks: signed-in `/api` requests check both buckets and the mark in one script. */
  readonly signedInChecks?: SignedInChecks;
}

/** How long browsers may cache a CORS preflight answer. */
const CORS_MAX_AGE_SECONDS = 600;

/** CORS as configured: none, any origin (`*`), or a list. Credentials are bearer tokens, never cookies. */
function corsMiddleware(origins: readonly string[]) {
  return cors({
    origin: origins.includes("*") ? "*" : [...origins],
    methods: ["GET", "POST", "OPTIONS"],
    allowedHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
    exposedHeaders: ["X-Request-Id", "Retry-After"],
    maxAge: CORS_MAX_AGE_SECONDS,
  });
}

/** Builds the HTTP API: `/api` (own JSON API + OpenAPI) and `/douyin` (app API). */
export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.set("trust proxy", config.HTTP_TRUST_PROXY_HOPS);
  app.use(requestId);
  app.use(accessLog(logger));
  if (config.CORS_ORIGINS.length > 0) app.use(corsMiddleware(config.CORS_ORIGINS));
  app.use("/api", apiRouter(deps));
  app.use("/douyin", douyinRouter(deps));
  app.use((_req, res) => {
    res.status(404).json({ error: "not found", code: "NOT_FOUND", requestId: res.locals.requestId as string | undefined });
  });
  app.use(errorHandler(logger));
  return app;
}
