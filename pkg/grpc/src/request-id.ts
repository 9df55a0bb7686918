/**
 * The request id across gRPC hops (see @rs/logger's request context): clients
 * send the current id(s) as `x-request-id` metadata, servers run each handler
 * inside the id(s) they received. A call that arrives without one (ghz,
 * grpcurl, a background job) runs with none: no id is made up for it.
 */
import { InterceptingCall, status, type Interceptor, type Metadata, type UntypedHandleCall } from "@grpc/grpc-js";
import { REQUEST_ID_HEADER, currentRequestIds, formatRequestIds, parseRequestIds, withCallDeadline, withRequestIds, type Logger } from "@rs/logger";

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

const NS_PER_MS = 1e6;

type UnaryCallback = (err: { code?: number } | null, ...rest: unknown[]) => void;

/** A call's deadline as epoch ms (undefined: none). */
function deadlineOf(call: { getDeadline?: () => Date | number }): number | undefined {
  const d = call.getDeadline?.();
  const ms = d instanceof Date ? d.getTime() : d;
  return typeof ms === "number" && Number.isFinite(ms) ? ms : undefined;
}

/**
 * Runs `handler` (any grpc-js handler) inside the request id(s) its call
 * carries, and inside its deadline (see @rs/logger's call deadline: waits on
 * other processes end before it). With `unary` (the method's path and a logger at debug level), each
 * answered call also logs one debug line `rpc` with its method, status and
 * time, inside the same ids: a per-call access log that costs nothing at info.
 */
export function inRequestContext(handler: UntypedHandleCall, unary?: { readonly path: string; readonly logger: Logger }): UntypedHandleCall {
  const invoke = handler as (...args: unknown[]) => unknown;
  const log = unary?.logger.isLevelEnabled("debug") ? unary.logger : undefined;
  const wrapped = (call: { metadata: Metadata; getDeadline?: () => Date | number }, ...rest: unknown[]) =>
    withCallDeadline(deadlineOf(call), () =>
      withRequestIds(requestIdsOfMetadata(call.metadata), () => {
        if (!log) return invoke(call, ...rest);
        const started = process.hrtime.bigint();
        const callback = rest[0] as UnaryCallback;
        const logged: UnaryCallback = (err, ...out) => {
          const code = err ? (err.code ?? status.UNKNOWN) : status.OK;
          log.debug({ method: unary!.path, code: status[code], ms: Math.round((Number(process.hrtime.bigint() - started) / NS_PER_MS) * 10) / 10 }, "rpc");
          callback(err, ...out);
        };
        return invoke(call, logged, ...rest.slice(1));
      }),
    );
  return wrapped as unknown as UntypedHandleCall;
}
