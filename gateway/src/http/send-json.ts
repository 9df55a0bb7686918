import type { Response } from "express";

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * Answers `body` as JSON: the bytes and headers Express's `res.status().json()`
 * sends with this app's settings (no ETag, no JSON spaces or replacer), without
 * its content-type parsing and charset rewriting on every answer. A HEAD request
 * gets the headers only (Node's ServerResponse drops the body).
 */
export function sendJson(res: Response, status: number, body: unknown): void {
  // JSON.stringify(undefined) is undefined: Express sends an empty body then.
  const text = JSON.stringify(body) ?? "";
  res.statusCode = status;
  res.setHeader("Content-Type", JSON_TYPE);
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.end(text);
}
