import type { ErrorRequestHandler, Request, Response } from "express";
import { Code, isStatusError } from "@rs/errors";
import type { Logger } from "@rs/logger";

/** The one table from gRPC status to HTTP status. */
export const HTTP_STATUS_OF: Readonly<Partial<Record<Code, number>>> = {
  [Code.INVALID_ARGUMENT]: 400,
  [Code.OUT_OF_RANGE]: 400,
  [Code.FAILED_PRECONDITION]: 400,
  [Code.UNAUTHENTICATED]: 401,
  [Code.PERMISSION_DENIED]: 403,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.ABORTED]: 409,
  [Code.RESOURCE_EXHAUSTED]: 429,
  [Code.UNAVAILABLE]: 503,
  [Code.DEADLINE_EXCEEDED]: 504,
};

/** What a failed request is answered with, in either family. */
export interface Failure {
  /** HTTP status (/api) and `status_code` (/douyin). */
  readonly status: number;
  /** Safe to show: never a stack, SQL or host. */
  readonly message: string;
  /** The gRPC code name, e.g. `INVALID_ARGUMENT`; `INTERNAL` for the unknown. */
  readonly code: string;
}

const INTERNAL: Failure = { status: 500, message: "internal error", code: "INTERNAL" };

/**
 * Classifies any error: body parser errors become 400/413, status errors go
 * through {@link HTTP_STATUS_OF}, and anything else is a 500 with a fixed text
 * (logged with the request id, never sent).
 */
export function failureOf(err: unknown, logger: Logger, requestId: string | undefined): Failure {
  const bodyErr = err as { type?: string };
  if (bodyErr.type === "entity.too.large") return { status: 413, message: "request body too large", code: "INVALID_ARGUMENT" };
  if (bodyErr.type === "entity.parse.failed" || bodyErr.type === "encoding.unsupported" || bodyErr.type === "charset.unsupported") {
    return { status: 400, message: "malformed request body", code: "INVALID_ARGUMENT" };
  }
  // Express's own URI decoding of path parameters fails with a 400-shaped error.
  if (err instanceof URIError || (err as { status?: number }).status === 400) return { status: 400, message: "malformed request", code: "INVALID_ARGUMENT" };
  if (isStatusError(err)) {
    const http = HTTP_STATUS_OF[err.code];
    if (http !== undefined) {
      // A service or dependency failing (the original is the cause) is worth a log line; a refusal is not.
      const cause = (err as { cause?: unknown }).cause;
      if (cause !== undefined) logger.warn({ err: cause, requestId, status: http }, "request failed on a dependency");
      return { status: http, message: err.details ?? err.message, code: Code[err.code] };
    }
  }
  logger.error({ err, requestId }, "request failed");
  return INTERNAL;
}

/** `/api` failures: the HTTP status of the table and `{error, code, requestId}`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req: Request, res: Response, next) => {
    // Half a response is out: only Express can end it (it closes the connection).
    if (res.headersSent) return next(err);
    const requestId = res.locals.requestId as string | undefined;
    const f = failureOf(err, logger, requestId);
    if (f.status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="api"');
    res.status(f.status).json({ error: f.message, code: f.code, requestId });
  };
}
