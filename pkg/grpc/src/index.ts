/**
 * gRPC building blocks: a server helper (health, reflection, error mapping,
 * latency metrics) and a balanced promise client over etcd discovery
 * (deadlines, retries of idempotent calls, a circuit breaker).
 */
export { startGrpcServer, serviceNameOf, type GrpcServerOptions, type GrpcServerHandle, type ServiceBinding } from "./server/grpc-server.js";
export { unary, type AsyncUnaryHandler, type AdaptedUnaryHandler } from "./server/unary.js";
export { withSafeDecoding, assertDecoded } from "./server/safe-decoding.js";
export { requestIdInterceptor, addRequestIdMetadata, requestIdsOfMetadata, inRequestContext } from "./request-id.js";
export {
  createServiceClient,
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_RETRIES,
  type ClientTarget,
  type ServiceClient,
  type ServiceClientOptions,
} from "./client/service-client.js";
export { idempotencyLevels, methodIdempotency, type IdempotencyLevel } from "./client/method-idempotency.js";
export { BREAKER_DEFAULTS, READ_CLASS, WRITE_CLASS, type BreakerOptions, type MethodClass } from "./client/call-policy.js";
export type { CallOpts, PromiseClient, UnaryMethodName, RequestOf, ResponseOf, GeneratedClientConstructor } from "./client/client-types.js";
