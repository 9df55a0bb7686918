import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";

const HEADER = "x-request-id";
const ACCEPTED = /^[A-Za-z0-9._-]{1,64}$/;

/** Gives every request an id (the caller's, when well-formed) and echoes it on the response. */
export const requestId: RequestHandler = (req, res, next) => {
  const given = req.header(HEADER);
  const id = given && ACCEPTED.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.setHeader(HEADER, id);
  next();
};
