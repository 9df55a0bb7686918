/**
 * Who is calling: the token is verified here, locally (signature with the one
 * configured algorithm, iss, aud, exp/nbf/iat, then revocation in Redis), and
 * the verified subject is the only identity handlers ever act for.
 */
import type { RequestHandler, Response } from "express";
import { isTokenError, type TokenVerifier } from "@rs/auth";
import { permissionDenied, unauthenticated, unavailable } from "@rs/errors";
import type { Logger } from "@rs/logger";
import { logOf } from "./access-log.js";

/** The verified caller of a request. */
export interface Principal {
  readonly userId: number;
  readonly jti: string;
  /** Unix seconds. */
  readonly expiresAt: number;
  /** The token as presented (Logout hands it to the user service). */
  readonly token: string;
}

const PRINCIPAL = "principal";
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

/** The caller, when the request carried a valid token. */
export const principalOf = (res: Response): Principal | undefined => res.locals[PRINCIPAL] as Principal | undefined;

/** The caller, or UNAUTHENTICATED. */
export function requirePrincipal(res: Response): Principal {
  const p = principalOf(res);
  if (!p) throw unauthenticated("sign in first: a token is required");
  return p;
}

/**
 * Refuses a request that names a user other than the caller as the one acting
 * (a write's `userId`): nobody acts for someone else.
 */
export function assertActingAs(principal: Principal, claimed: number | undefined): void {
  if (claimed !== undefined && claimed !== principal.userId) throw permissionDenied("userId does not match the signed-in user");
}

/**
 * Verifies `token` into a {@link Principal}. A refused token is UNAUTHENTICATED
 * (the client is told "expired" or "invalid", the exact reason is only logged);
 * a revocation store that cannot answer is UNAVAILABLE: revocation fails closed.
 */
export async function verifyToken(verifier: TokenVerifier, token: string, logger: Logger): Promise<Principal> {
  try {
    const v = await verifier.verify(token);
    return { userId: Number(v.userId), jti: v.jti, expiresAt: v.expiresAt, token };
  } catch (err) {
    if (isTokenError(err)) {
      logger.debug({ reason: err.reason }, "token refused");
      throw unauthenticated(err.reason === "expired" ? "token expired, sign in again" : "invalid token");
    }
    logger.warn({ err }, "token revocation check failed");
    throw unavailable("cannot check the token right now, try again later");
  }
}

/** `/api`: `Authorization: Bearer <token>` is required. */
export function bearerAuth(verifier: TokenVerifier, logger: Logger): RequestHandler {
  return async (req, res, next) => {
    const header = req.header("authorization");
    if (header === undefined) throw unauthenticated("missing Authorization: Bearer token");
    const m = BEARER.exec(header);
    if (!m) throw unauthenticated("Authorization must be: Bearer <token>");
    res.locals[PRINCIPAL] = await verifyToken(verifier, m[1]!, logOf(res, logger));
    next();
  };
}

/**
 * `/douyin`: the token arrives as a `token` parameter (query or form). With
 * `required`, a missing token is UNAUTHENTICATED; a token that is present is
 * always verified, so a bad one is refused even where none is needed.
 */
export function paramTokenAuth(
  verifier: TokenVerifier,
  logger: Logger,
  required: boolean,
  tokenOf: (req: Parameters<RequestHandler>[0]) => unknown,
): RequestHandler {
  return async (req, res, next) => {
    const token = tokenOf(req);
    if (token === undefined || token === "") {
      if (required) throw unauthenticated("token is required");
      next();
      return;
    }
    if (typeof token !== "string") throw unauthenticated("invalid token");
    res.locals[PRINCIPAL] = await verifyToken(verifier, token, logOf(res, logger));
    next();
  };
}
