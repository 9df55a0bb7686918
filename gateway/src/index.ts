/** The gateway: the HTTP API for apps (`/api`, `/douyin`) in front of the rpc services. */
export { startGateway, type RunningGateway } from "./gateway.process.js";
export { createApp, type AppDeps } from "./app.js";
export { gatewayConfigSchema, loadGatewayConfig, GATEWAY_DEFAULTS, type GatewayConfig } from "./config.js";
export { createGatewayClients, type GatewayClients, type UserClient, type RelationClient, type CountClient } from "./clients/service-clients.js";
export { apiRoutes, API_VERSION } from "./api/api.router.js";
export { buildOpenApiDocument, type OpenApiDocument } from "./api/openapi.js";
export { redisLimiterFactory, type LimiterFactory, type LimiterSpec } from "./http/limits.js";
export { HTTP_STATUS_OF, failureOf } from "./http/error-handler.js";
export { DOUYIN_EMPTY } from "./douyin/douyin-envelope.js";
