/** App dependencies for tests that build the app without any server behind it. */
import type { RequestHandler } from "express";
import { TokenVerifier } from "@rs/auth";
import { createLogger } from "@rs/logger";
import type { AppDeps } from "../../src/app.js";
import type { GatewayClients } from "../../src/clients/service-clients.js";
import { loadGatewayConfig } from "../../src/config.js";

export const OFFLINE_SECRET = "offline-test-secret-0123456789abcdef";

/** Clients whose every method fails the test if called. */
export const unusedClients = (): GatewayClients => {
  const unused = (service: string) =>
    new Proxy({}, { get: (_t, method) => () => Promise.reject(new Error(`${service}.${String(method)} must not be called`)) });
  return { user: unused("user"), relation: unused("relation"), count: unused("count") } as unknown as GatewayClients;
};

/** The gateway's settings with nothing reachable behind them, plus `env`. */
export const offlineConfig = (env: Record<string, string> = {}) =>
  loadGatewayConfig({
    JWT_SECRET: OFFLINE_SECRET,
    REDIS_URL: "redis://127.0.0.1:1",
    ETCD_ENDPOINTS: "http://127.0.0.1:1",
    HTTP_PORT: "0",
    LOG_LEVEL: "silent",
    ...env,
  });

export function offlineDeps(over: Partial<AppDeps> = {}): AppDeps {
  const config = offlineConfig();
  const pass: RequestHandler = (_req, _res, next) => next();
  return {
    config,
    logger: createLogger("gateway-test", "silent"),
    clients: unusedClients(),
    verifier: TokenVerifier.fromConfig(config),
    limiter: () => pass,
    ...over,
  };
}
