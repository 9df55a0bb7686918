import { createServiceClient, type PromiseClient, type ServiceClient } from "@rs/grpc";
import type { Etcd3 } from "@rs/discovery";
import { countV1, relationV1, userV1 } from "@rs/idl";
import type { Logger } from "@rs/logger";
import { coalescedGetUser } from "./coalesced-get-user.js";
import { guardClient } from "./remote-error.js";

export type UserClient = PromiseClient<userV1.UserServiceClient>;
export type RelationClient = PromiseClient<relationV1.RelationServiceClient>;
export type CountClient = PromiseClient<countV1.CountServiceClient>;

/** The services the gateway calls. Route handlers depend on this, so tests can pass their own. */
export interface GatewayClients {
  readonly user: UserClient;
  readonly relation: RelationClient;
  readonly count: CountClient;
}

export interface ClientSettings {
  readonly USER_SERVICE_NAME: string;
  readonly RELATION_SERVICE_NAME: string;
  readonly COUNT_SERVICE_NAME: string;
  readonly GRPC_DEADLINE_MS: number;
  /** GetUser calls of one turn of the event loop share one BatchGetUsers (ADR 0022). */
  readonly PROFILE_COALESCE: boolean;
}

/**
 * Balanced clients of user, relation and count over etcd discovery. What is
 * retried and which breaker a method shares come from the protos'
 * `idempotency_level` (@rs/grpc's method-idempotency.ts): reads
 * (NO_SIDE_EFFECTS) and Logout (IDEMPOTENT: revoking twice is revoking once)
 * are retried on UNAVAILABLE; Register, Login, Follow and Unfollow are not, so
 * a lost answer is never a second write. Each client has a breaker for reads
 * and one for writes (Logout counts as a write), so writes failing on a
 * service's own dependency (relation's Kafka) never cut the reads off (ADR 0013).
 * GetUser calls made in the same turn of the event loop share one BatchGetUsers
 * (`PROFILE_COALESCE`, ADR 0022).
 */
export function createGatewayClients(cfg: ClientSettings, etcd: Etcd3, logger: Logger): GatewayClients & { close(): Promise<void> } {
  const common = { deadlineMs: cfg.GRPC_DEADLINE_MS, logger };
  const user: ServiceClient<userV1.UserServiceClient> = createServiceClient(userV1.UserServiceClient, {
    ...common,
    target: { service: cfg.USER_SERVICE_NAME, etcd },
  });
  const relation: ServiceClient<relationV1.RelationServiceClient> = createServiceClient(relationV1.RelationServiceClient, {
    ...common,
    target: { service: cfg.RELATION_SERVICE_NAME, etcd },
  });
  const count: ServiceClient<countV1.CountServiceClient> = createServiceClient(countV1.CountServiceClient, {
    ...common,
    target: { service: cfg.COUNT_SERVICE_NAME, etcd },
  });
  return {
    user: guardClient(cfg.PROFILE_COALESCE ? { ...user, getUser: coalescedGetUser(user) } : user, "user"),
    relation: guardClient(relation, "relation"),
    count: guardClient(count, "count"),
    close: async () => {
      await Promise.all([user.close(), relation.close(), count.close()]);
    },
  };
}
