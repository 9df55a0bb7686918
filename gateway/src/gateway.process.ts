/**
 * The gateway process: an HTTP server (Express), clients of the rpc services
 * found in etcd, Redis for token revocation and rate limits, and the admin
 * server. Not an rpc process itself: it registers nothing in etcd.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { RevocationStore, TokenVerifier } from "@rs/auth";
import { createEtcd } from "@rs/discovery";
import { createLogger, type Logger } from "@rs/logger";
import { closeRedis, createRedis, redisReadiness, waitForRedisReady } from "@rs/redis";
import { Lifecycle, startAdminServer } from "@rs/runtime";
import { createApp } from "./app.js";
import { createGatewayClients } from "./clients/service-clients.js";
import type { GatewayConfig } from "./config.js";
import { redisLimiterFactory } from "./http/limits.js";

/** How long start-up waits for Redis before serving anyway (unready until Redis answers). */
const REDIS_START_WAIT_MS = 5_000;
/** Longest a whole request (headers and body) may take to arrive: slow clients do not hold sockets for long. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface RunningGateway {
  readonly httpPort: number;
  readonly adminPort: number;
  /** `http://<host>:<port>` of the HTTP API (127.0.0.1 when bound to every address). */
  readonly url: string;
  stop(): Promise<void>;
}

/** Stops accepting, lets in-flight requests finish, cuts what is left after `timeoutMs`. */
async function closeHttp(server: http.Server, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  server.closeAllConnections();
  await closed;
}

/**
 * Starts the gateway; with HTTP_PORT=0 and ADMIN_PORT=0 it binds free ports,
 * so tests run it in-process. `stop()` goes down in order: not ready → admin
 * server closed → HTTP drained (cut after SHUTDOWN_TIMEOUT_MS) → service clients
 * → etcd → Redis.
 */
export async function startGateway(config: GatewayConfig, opts: { logger?: Logger } = {}): Promise<RunningGateway> {
  const logger = opts.logger ?? createLogger("gateway", config.LOG_LEVEL);
  const lifecycle = new Lifecycle(logger);
  try {
    const redis = createRedis(config.REDIS_URL, { logger, name: "gateway" });
    lifecycle.add("close redis", () => closeRedis(redis));
    await waitForRedisReady(redis, REDIS_START_WAIT_MS).catch((err: unknown) => logger.warn({ err }, "redis not ready yet; serving, unready until it is"));

    const etcd = createEtcd(config.ETCD_ENDPOINTS);
    lifecycle.add("close etcd client", () => etcd.close());
    const clients = createGatewayClients(config, etcd, logger);
    lifecycle.add("close service clients", () => clients.close());

    const revocations = new RevocationStore(redis, { keyPrefix: config.TOKEN_REVOCATION_PREFIX, graceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS });
    const verifier = TokenVerifier.fromConfig(config, { cacheSize: config.JWT_CACHE_SIZE, revocations });
    const limiter = redisLimiterFactory(redis, config, logger);
    const app = createApp({ config, logger, clients, verifier, limiter, signedInChecks: { redis, revocations } });
    const server = http.createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, app);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      // reusePort: N processes bind the same port and the kernel balances connections between them (ADR 0017).
      server.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST, reusePort: config.HTTP_REUSE_PORT }, () => resolve());
    });
    lifecycle.add("drain HTTP", () => closeHttp(server, config.SHUTDOWN_TIMEOUT_MS));
    const httpPort = (server.address() as AddressInfo).port;

    const admin = await startAdminServer({ port: config.ADMIN_PORT, logger, checks: [redisReadiness(redis)] });
    lifecycle.add("close admin server", () => admin.close());
    lifecycle.add("stop being ready", () => admin.setDraining());

    const host = config.HTTP_HOST === "0.0.0.0" || config.HTTP_HOST === "::" ? "127.0.0.1" : config.HTTP_HOST;
    logger.info({ httpPort, adminPort: admin.port }, "serving");
    return { httpPort, adminPort: admin.port, url: `http://${host}:${httpPort}`, stop: () => lifecycle.stop() };
  } catch (err) {
    await lifecycle.stop();
    throw err;
  }
}
