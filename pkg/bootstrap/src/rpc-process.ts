import { createEtcd, registerInstance, type Etcd3 } from "@rs/discovery";
import { startGrpcServer, type ServiceBinding } from "@rs/grpc";
import { createLogger, type Logger } from "@rs/logger";
import { Lifecycle, startAdminServer, type ReadinessCheck } from "@rs/runtime";
import { newInstanceId } from "./instance-id.js";
import { resolveServiceHost } from "./service-host.js";
import type { ProcessContext, ProcessSettings, RunningProcess } from "./process-types.js";

/** The settings an rpc process reads (processSettings + grpcServerSettings + etcdSettings). */
export interface RpcProcessSettings extends ProcessSettings {
  readonly GRPC_PORT: number;
  readonly GRPC_HOST: string;
  readonly ETCD_ENDPOINTS: readonly string[];
  readonly ETCD_LEASE_TTL_SECONDS: number;
  readonly LOG_LEVEL: string;
}

/** What a service's set-up returns: what to serve, and how to tell it is ready. */
export interface RpcSetup<E = unknown> {
  readonly services: readonly ServiceBinding[];
  /** `.proto` files served by reflection, relative to `PROTO_ROOT` of @rs/idl. */
  readonly reflectionProtoFiles: readonly string[];
  readonly checks: readonly ReadinessCheck[];
  /** Anything tests of an in-process instance want to reach (e.g. the use cases). */
  readonly exposed?: E;
}

export interface RpcProcessOptions<E = unknown> {
  /** The name registered in etcd (`/services/<name>/<instance>`), e.g. `user`. */
  readonly name: string;
  readonly settings: RpcProcessSettings;
  readonly logger?: Logger;
  /**
   * Builds the process's dependencies and handlers. Register each resource's
   * close step on `ctx.lifecycle` as soon as it is opened, so a failure half-way
   * still closes what was opened.
   */
  setup(ctx: ProcessContext & { readonly etcd: Etcd3 }): Promise<RpcSetup<E>>;
}

/**
 * Starts an rpc process: etcd client, the service's own set-up, the gRPC
 * server (health + reflection), its etcd registration and the admin server.
 * `stop()` goes down in order: not ready (admin and gRPC health) → deregister
 * from etcd → drain gRPC (forced after SHUTDOWN_TIMEOUT_MS) → the set-up's own
 * steps (flush Kafka, close Redis and pools) → etcd client.
 */
export async function startRpcProcess<E>(opts: RpcProcessOptions<E>): Promise<RunningProcess> {
  const s = opts.settings;
  const logger = opts.logger ?? createLogger(opts.name, s.LOG_LEVEL);
  const lifecycle = new Lifecycle(logger);
  const instanceId = newInstanceId(opts.name);
  try {
    // Before anything is opened: a host that cannot be resolved fails the start at once.
    const serviceHost = resolveServiceHost(s.SERVICE_HOST);
    const etcd = createEtcd(s.ETCD_ENDPOINTS);
    lifecycle.add("close etcd client", () => etcd.close());

    const setup = await opts.setup({ logger, lifecycle, etcd });

    const grpc = await startGrpcServer({
      name: opts.name,
      host: s.GRPC_HOST,
      port: s.GRPC_PORT,
      services: setup.services,
      reflectionProtoFiles: setup.reflectionProtoFiles,
      logger,
    });
    lifecycle.add("drain gRPC", () => grpc.shutdown(s.SHUTDOWN_TIMEOUT_MS));

    const registration = await registerInstance(etcd, {
      service: opts.name,
      instanceId,
      address: `${serviceHost}:${grpc.port}`,
      ttlSeconds: s.ETCD_LEASE_TTL_SECONDS,
      logger,
    });
    lifecycle.add("deregister from etcd", () => registration.deregister());

    const admin = await startAdminServer({
      port: s.ADMIN_PORT,
      logger,
      checks: [
        ...setup.checks,
        {
          name: "etcd-registration",
          check: async () => {
            if (!registration.isRegistered()) throw new Error("not registered in etcd");
          },
        },
      ],
    });
    lifecycle.add("close admin server", () => admin.close());
    lifecycle.add("stop being ready", () => {
      admin.setDraining();
      grpc.setServing(false);
    });

    logger.info({ instanceId, grpcPort: grpc.port, adminPort: admin.port }, "serving");
    return { adminPort: admin.port, grpcPort: grpc.port, instanceId, exposed: setup.exposed, stop: () => lifecycle.stop() };
  } catch (err) {
    await lifecycle.stop();
    throw err;
  }
}
