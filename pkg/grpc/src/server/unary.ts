import { status, type handleUnaryCall, type ServerUnaryCall, type ServiceError } from "@grpc/grpc-js";
import { StatusError, toStatus } from "@rs/errors";
import { createLogger, type Logger } from "@rs/logger";
import { callLabels, codeLabel, secondsSince, serverMetrics } from "../grpc.metrics.js";

/** A use-case style handler: resolve with the response or throw a status error. */
export type AsyncUnaryHandler<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;

/** Where an adapted handler logs; {@link startGrpcServer} binds its own. */
export interface UnaryContext {
  readonly logger: Logger;
}

/** Marks handlers made by {@link unary} so a server can give them its logger. */
export const BIND_CONTEXT = Symbol("rs.grpc.bindContext");

/** A grpc-js unary handler made by {@link unary}. */
export type AdaptedUnaryHandler<Req, Res> = handleUnaryCall<Req, Res> & {
  readonly [BIND_CONTEXT]: (ctx: UnaryContext) => handleUnaryCall<Req, Res>;
};

let fallbackLogger: Logger | undefined;
let metrics: ReturnType<typeof serverMetrics> | undefined;

/**
 * Turns `async (req, call) => res` into a grpc-js unary handler. This is the
 * one place errors become statuses: a thrown {@link StatusError} (or another
 * gRPC status, e.g. from a downstream call) keeps its code and message; a
 * store outage (MySQL, Redis or Kafka unreachable, timed out or full:
 * `isStoreOutage` of `@rs/errors`) is answered UNAVAILABLE, for every service
 * alike; anything else is logged with its stack and answered as INTERNAL. Both
 * with a fixed text, so no SQL, stack or host name reaches a client. Every call is counted
 * in the `grpc_server_*` metrics (started, handled by code, handling seconds,
 * messages received and sent) of the process's registry.
 */
export function unary<Req, Res>(handler: AsyncUnaryHandler<Req, Res>): AdaptedUnaryHandler<Req, Res> {
  const bind =
    (ctx: UnaryContext): handleUnaryCall<Req, Res> =>
    (call, callback) => {
      const started = process.hrtime.bigint();
      const m = (metrics ??= serverMetrics());
      const labels = callLabels(call.getPath());
      m.started.inc(labels);
      m.received.inc(labels);
      const done = (code: status) => {
        m.handled.inc({ ...labels, grpc_code: codeLabel(code) });
        m.handling.observe(labels, secondsSince(started));
        if (code === status.OK) m.sent.inc(labels);
      };
      let pending: Promise<Res>;
      try {
        pending = handler(call.request, call);
      } catch (err) {
        pending = Promise.reject(err); // a handler that throws before its first await
      }
      pending.then(
        (response) => {
          done(status.OK);
          callback(null, response);
        },
        (err: unknown) => {
          const { code, details } = toStatus(err);
          if (!(err instanceof StatusError) && code === status.INTERNAL) {
            ctx.logger.error({ err, method: call.getPath() }, "unhandled error in gRPC handler");
          }
          done(code);
          const reply: Partial<ServiceError> = { code, details };
          if (err instanceof StatusError) reply.metadata = err.metadata;
          callback(reply, null);
        },
      );
    };
  const unbound = bind({
    get logger() {
      fallbackLogger ??= createLogger("grpc");
      return fallbackLogger;
    },
  });
  return Object.assign(unbound, { [BIND_CONTEXT]: bind });
}

/** Whether `fn` was made by {@link unary}. */
export function isAdaptedUnary(fn: unknown): fn is AdaptedUnaryHandler<unknown, unknown> {
  return typeof fn === "function" && BIND_CONTEXT in fn;
}
