import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import { REQUEST_ID_HEADER, isRequestId, withRequestId } from "@rs/logger";

/**
 * Gives every request an id (the caller's, when well-formed) and echoes it on
 * the response. The rest of the request runs inside it (@rs/logger's request
 * context): every log line carries it as `request_id`, every gRPC call sends it
 * as `x-request-id` metadata.
 */
export const requestId: RequestHandler = (req, res, next) => {
  const given = req.header(REQUEST_ID_HEADER);
  const id = isRequestId(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.setHeader(REQUEST_ID_HEADER, id);
  withRequestId(id, next);
};
