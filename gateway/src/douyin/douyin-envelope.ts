/**
 * The app API's envelope: every answer is HTTP 200 with `status_code` (0 = ok)
 * and `status_msg`, plus the route's documented keys, present even on failure
 * with empty values (a failed register still carries `"user_id"` and `"token": ""`).
 * A failure's `status_code` is the HTTP status the /api family would send
 * (400, 401, 403, 404, 409, 429, 500, 503, 504), from the same table.
 */
import type { ErrorRequestHandler, Request, Response } from "express";
import type { Logger } from "@rs/logger";
import { failureOf } from "../http/error-handler.js";
import { sendJson } from "../http/send-json.js";

export const DOUYIN_OK = 0;
const OK_MESSAGE = "ok";
const TOO_MANY = 429;

/** The documented keys of each route, with the values a failure carries. Paths are relative to /douyin. */
export const DOUYIN_EMPTY: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  "/user/register/": { user_id: 0, token: "" },
  "/user/login/": { user_id: 0, token: "" },
  "/user/": { user: null },
  "/relation/action/": {},
  "/relation/follow/list/": { user_list: [] },
  "/relation/follower/list/": { user_list: [] },
  "/relation/friend/list/": { user_list: [] },
};

/** Express matches paths case-insensitively and with or without the trailing slash; so does this lookup. */
export function emptyOf(path: string): Readonly<Record<string, unknown>> {
  const p = path.toLowerCase();
  return DOUYIN_EMPTY[p.endsWith("/") ? p : `${p}/`] ?? {};
}

/** Answers success with the route's keys. */
export function douyinOk(res: Response, body: Record<string, unknown>): void {
  sendJson(res, 200, { status_code: DOUYIN_OK, status_msg: OK_MESSAGE, ...body });
}

/** Answers a failure with the route's keys at their empty values. */
export function douyinFail(req: Request, res: Response, statusCode: number, message: string): void {
  sendJson(res, 200, { status_code: statusCode, status_msg: message, ...emptyOf(req.path) });
}

/** The rate limiters' answer on /douyin. */
export const douyinLimited = (req: Request, res: Response, retryAfterSeconds: number): void => {
  res.setHeader("Retry-After", String(retryAfterSeconds));
  douyinFail(req, res, TOO_MANY, "too many requests, slow down");
};

/** Every /douyin failure, through the one error table, as HTTP 200 with `status_code != 0`. */
export function douyinErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const f = failureOf(err, logger, res.locals.requestId as string | undefined);
    douyinFail(req, res, f.status, f.message);
  };
}
