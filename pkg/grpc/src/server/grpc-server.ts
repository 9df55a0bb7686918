import { Server, ServerCredentials, type ChannelOptions, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { HealthImplementation, type ServingStatusMap } from "grpc-health-check";
import type { Logger } from "@rs/logger";
import { inRequestContext } from "../request-id.js";
import { createReflection } from "./reflection.js";
import { isAdaptedUnary, BIND_CONTEXT } from "./unary.js";

/** One service to serve: a generated definition and its handlers. */
export interface ServiceBinding {
  // Generated definitions are typed per method; the server only needs the shape.
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  /** Process name, for logs. */
  readonly name: string;
  /** Bind address, e.g. `0.0.0.0` or `127.0.0.1`. */
  readonly host: string;
  /** Port to bind; 0 picks a free one (see {@link GrpcServerHandle.port}). */
  readonly port: number;
  readonly services: readonly ServiceBinding[];
  /** `.proto` files of the services, relative to `PROTO_ROOT` of `@rs/idl`, served by reflection. */
  readonly reflectionProtoFiles: readonly string[];
  readonly logger: Logger;
  /** Health status right after start (default true: SERVING). */
  readonly serving?: boolean;
  /** Extra grpc-js server options. */
  readonly serverOptions?: ChannelOptions;
}

export interface GrpcServerHandle {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  readonly server: Server;
  /** Sets grpc.health.v1 status of "" and of every served service. */
  setServing(serving: boolean): void;
  /**
   * Stops accepting calls and waits for in-flight ones (`tryShutdown`); cuts
   * whatever is left after `timeoutMs` (`forceShutdown`). Health says
   * NOT_SERVING from the first moment.
   */
  shutdown(timeoutMs: number): Promise<void>;
}

/** `"/echo.v1.EchoService/Echo"` → `"echo.v1.EchoService"`. */
export function serviceNameOf(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0];
  if (!first) throw new Error("service definition has no methods");
  const match = /^\/([^/]+)\//.exec(first.path);
  if (!match?.[1]) throw new Error(`unexpected method path ${first.path}`);
  return match[1];
}

/**
 * Starts a grpc-js server with the given services plus grpc.health.v1 and gRPC
 * reflection (v1 and v1alpha), so `grpcurl -plaintext host:port list` and `ghz`
 * work without the protos. Handlers made with `unary()` log through `logger`.
 */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServerHandle> {
  const logger = opts.logger.child({ component: "grpc-server" });
  const server = new Server(opts.serverOptions);
  const serviceNames = opts.services.map((s) => serviceNameOf(s.definition));

  for (const { definition, implementation } of opts.services) {
    server.addService(definition, bindHandlers(definition, implementation, logger));
  }

  const initial = opts.serving === false ? "NOT_SERVING" : "SERVING";
  const statusMap: ServingStatusMap = { "": initial };
  for (const name of serviceNames) statusMap[name] = initial;
  const health = new HealthImplementation(statusMap);
  health.addToServer(server);
  createReflection(opts.reflectionProtoFiles).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host}:${opts.port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  logger.info({ server: opts.name, host: opts.host, port, services: serviceNames }, "gRPC server listening");

  const setServing = (serving: boolean) => {
    const value = serving ? "SERVING" : "NOT_SERVING";
    health.setStatus("", value);
    for (const name of serviceNames) health.setStatus(name, value);
  };

  let stopping: Promise<void> | undefined;
  return {
    port,
    server,
    setServing,
    shutdown(timeoutMs) {
      stopping ??= new Promise<void>((resolve) => {
        setServing(false);
        const timer = setTimeout(() => {
          logger.warn({ timeoutMs }, "gRPC calls still running at the shutdown deadline; cutting them");
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown((err) => {
          clearTimeout(timer);
          if (err) logger.warn({ err }, "gRPC tryShutdown reported an error");
          resolve();
        });
      });
      return stopping;
    },
  };
}

/**
 * Gives `unary()` handlers the server's logger, and runs every handler inside
 * its call's request id (unary calls with a debug line each, see inRequestContext).
 */
function bindHandlers(definition: ServiceDefinition, implementation: UntypedServiceImplementation, logger: Logger): UntypedServiceImplementation {
  const bound: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(implementation)) {
    const def = definition[method];
    const unaryCall = def && !def.requestStream && !def.responseStream ? { path: def.path, logger } : undefined;
    bound[method] = inRequestContext(isAdaptedUnary(handler) ? handler[BIND_CONTEXT]({ logger }) : handler, unaryCall);
  }
  return bound;
}
