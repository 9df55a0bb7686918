/**
 * The speed baseline: a bare grpc-js server of echo.v1.EchoService. Its call
 * path is a plain grpc-js handler (no adapter, no metrics, no logging per
 * call), so ghz against it measures grpc-js itself; it still has health and
 * reflection like every server of the suite, so ghz and grpcurl need no protos.
 *
 *   ECHO_PORT=50051 node --import tsx bench/echo-server.ts
 *
 * With ECHO_REDIS_URL each call first runs one trivial Lua script (an EXISTS)
 * through the suite's Redis client (@rs/redis, as the services configure it):
 * the floor of any call answered from Redis, one gRPC call plus one script
 * round trip, against which the relation service's cached reads are compared.
 *
 * Prints one JSON line `{"event":"listening","port":N,"instance":"..."}` on
 * stdout once it serves. With ETCD_ENDPOINTS and ECHO_SERVICE_NAME it also
 * registers in etcd (the discovery tests spawn it that way). Stops gracefully
 * on SIGTERM/SIGINT: NOT_SERVING, deregister, drain.
 */
import { hostname } from "node:os";
import { loadConfig, z, env } from "@rs/config";
import { createEtcd, registerInstance, type Registration } from "@rs/discovery";
import { startGrpcServer } from "@rs/grpc";
import { echoV1, protoFiles } from "@rs/idl";
import { createLogger } from "@rs/logger";
import { closeRedis, createRedis, defineScript, waitForRedisReady } from "@rs/redis";
import { runMain } from "@rs/runtime";

const DEFAULT_LEASE_TTL_SECONDS = 10;
const SHUTDOWN_TIMEOUT_MS = 5_000;

const schema = z.object({
  ECHO_PORT: env.port().default(0).describe("Port to listen on; 0 picks a free one (printed on stdout)"),
  ECHO_HOST: env.string("a bind address").default("127.0.0.1").describe("Address to bind"),
  ECHO_ADVERTISE_HOST: env.string("a host name or IP").default("127.0.0.1").describe("Host registered in etcd for clients to dial"),
  ECHO_INSTANCE_ID: env.string().optional().describe("Name of this instance (default <hostname>-<pid>); echoed in every response"),
  ECHO_SERVICE_NAME: env.string().optional().describe("Register in etcd under /services/<name>/ (needs ETCD_ENDPOINTS)"),
  ETCD_ENDPOINTS: env.urlList(["http:", "https:"]).optional().describe("etcd client URLs; registration is off without them"),
  ECHO_REDIS_URL: env.string("a redis:// URL").optional().describe("Run one trivial script on this Redis per call (the floor of a read answered from Redis)"),
  ECHO_LEASE_TTL_SECONDS: env.positiveInt().default(DEFAULT_LEASE_TTL_SECONDS).describe("TTL of the etcd lease"),
  LOG_LEVEL: env.logLevel(),
});

runMain("echo-server", async () => {
  const config = loadConfig(schema);
  const instanceId = config.ECHO_INSTANCE_ID ?? `${hostname()}-${process.pid}`;
  const logger = createLogger("echo-server", config.LOG_LEVEL).child({ instance: instanceId });

  const redis = config.ECHO_REDIS_URL ? createRedis(config.ECHO_REDIS_URL, { logger, name: "echo-server" }) : undefined;
  if (redis) await waitForRedisReady(redis);
  const probe = redis && defineScript<number>(redis, "echoProbe", "return redis.call('EXISTS', KEYS[1])", 1);
  const probeKey = [`rs:bench:echo-probe:${instanceId}`];
  const implementation: echoV1.EchoServiceServer = probe
    ? {
        echo: (call, callback) =>
          probe(probeKey).then(
            () => callback(null, { message: call.request.message, instance: instanceId }),
            (err: unknown) => callback(err as Error),
          ),
      }
    : { echo: (call, callback) => callback(null, { message: call.request.message, instance: instanceId }) };
  const grpc = await startGrpcServer({
    name: "echo-server",
    host: config.ECHO_HOST,
    port: config.ECHO_PORT,
    services: [{ definition: echoV1.EchoServiceService, implementation }],
    reflectionProtoFiles: [protoFiles.echo],
    logger,
  });

  let registration: Registration | undefined;
  const etcd = config.ETCD_ENDPOINTS && config.ECHO_SERVICE_NAME ? createEtcd(config.ETCD_ENDPOINTS) : undefined;
  if (etcd && config.ECHO_SERVICE_NAME) {
    registration = await registerInstance(etcd, {
      service: config.ECHO_SERVICE_NAME,
      instanceId,
      address: `${config.ECHO_ADVERTISE_HOST}:${grpc.port}`,
      ttlSeconds: config.ECHO_LEASE_TTL_SECONDS,
      logger,
    });
  }

  process.stdout.write(`${JSON.stringify({ event: "listening", port: grpc.port, instance: instanceId })}\n`);

  return {
    async stop() {
      grpc.setServing(false);
      await registration?.deregister();
      await grpc.shutdown(SHUTDOWN_TIMEOUT_MS);
      etcd?.close();
      if (redis) await closeRedis(redis);
    },
  };
});
