import type { ErrorRequestHandler } from "express";
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

/**
 * Maps every error to a JSON answer: status errors keep their message, body
 * parser errors become 400/413, and anything else is a 500 with a fixed text
 * (the details go to the log with the request id, never to the client).
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    const requestId = res.locals.requestId as string | undefined;
    const bodyErr = err as { type?: string; status?: number };
    if (bodyErr.type === "entity.too.large") {
      res.status(413).json({ error: "request body too large", requestId });
      return;
    }
    if (bodyErr.type === "entity.parse.failed") {
      res.status(400).json({ error: "malformed request body", requestId });
      return;
    }
    if (isStatusError(err)) {
      const http = HTTP_STATUS_OF[err.code];
      if (http !== undefined) {
        res.status(http).json({ error: err.details ?? err.message, requestId });
        return;
      }
    }
    logger.error({ err, requestId }, "request failed");
    res.status(500).json({ error: "internal error", requestId });
  };
}
