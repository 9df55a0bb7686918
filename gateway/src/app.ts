import express, { type Express } from "express";
import type { Logger } from "@rs/logger";
import type { GatewayConfig } from "./config.js";
import { errorHandler } from "./http/error-handler.js";
import { requestId } from "./http/request-id.js";

/** Builds the HTTP API. Routes arrive with the user and relation issues. */
export function createApp(deps: { config: GatewayConfig; logger: Logger }): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  app.use(requestId);
  app.use(express.json({ limit: deps.config.HTTP_BODY_LIMIT }));
  app.use(express.urlencoded({ extended: false, limit: deps.config.HTTP_BODY_LIMIT }));
  app.use((_req, res) => {
    res.status(404).json({ error: "not found", requestId: res.locals.requestId });
  });
  app.use(errorHandler(deps.logger));
  return app;
}
