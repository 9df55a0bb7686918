/**
 * The request id across gRPC hops (see @rs/logger's request context): clients
 * send the current id(s) as `x-request-id` metadata, servers run each handler
 * inside the id(s) they received. A call that arrives without one (ghz,
 * grpcurl, a background job) runs with none: no id is made up for it.
 */
import { InterceptingCall, type Interceptor, type Metadata, type UntypedHandleCall } from "@grpc/grpc-js";
import { REQUEST_ID_HEADER, currentRequestIds, formatRequestIds, parseRequestIds, withRequestIds } from "@rs/logger";

/** Adds the current request id(s) to `metadata`, unless the caller set the key itself. */
export function addRequestIdMetadata(metadata: Metadata): Metadata {
  const value = formatRequestIds(currentRequestIds());
  if (value !== undefined && metadata.get(REQUEST_ID_HEADER).length === 0) metadata.set(REQUEST_ID_HEADER, value);
  return metadata;
}

/** Client interceptor: every call started inside a request carries its id. */
export const requestIdInterceptor: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      next(addRequestIdMetadata(metadata), listener);
    },
  });

/** The request id(s) of an incoming call's metadata. */
export const requestIdsOfMetadata = (metadata: Metadata): string[] => parseRequestIds(metadata.get(REQUEST_ID_HEADER));

/** Runs `handler` (any grpc-js handler) inside the request id(s) its call carries. */
export function inRequestContext(handler: UntypedHandleCall): UntypedHandleCall {
  const wrapped = (call: { metadata: Metadata }, ...rest: unknown[]) =>
    withRequestIds(requestIdsOfMetadata(call.metadata), () => (handler as (...args: unknown[]) => unknown)(call, ...rest));
  return wrapped as unknown as UntypedHandleCall;
}
