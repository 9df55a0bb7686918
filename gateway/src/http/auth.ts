/**
 * Who is calling: the token is verified here, locally (signature with the one
 * configured algorithm, iss, aud, exp/nbf/iat, then revocation in Redis), and
 * the verified subject is the only identity handlers ever act for.
 */
import type { Request, RequestHandler, Response } from "express";
import { isTokenError, type TokenVerifier, type VerifiedToken } from "@rs/auth";
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

/** Records the verified caller of a request. */
export const setPrincipal = (res: Response, p: Principal): void => void (res.locals[PRINCIPAL] = p);

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

/** The caller a verified token names. */
export const principalFrom = (v: VerifiedToken, token: string): Principal => ({ userId: Number(v.userId), jti: v.jti, expiresAt: v.expiresAt, token });

/**
 * What a client is told when its token cannot be used: a refused token is
 * UNAUTHENTICATED ("expired" or "invalid", the exact reason is only logged); a
 * revocation store that cannot answer is UNAVAILABLE: revocation fails closed.
 */
export function tokenRefusal(err: unknown, log: () => Logger): Error {
  if (isTokenError(err)) {
    log().debug({ reason: err.reason }, "token refused");
    return unauthenticated(err.reason === "expired" ? "token expired, sign in again" : "invalid token");
  }
  log().warn({ err }, "token revocation check failed");
  return unavailable("cannot check the token right now, try again later");
}

/** Verifies `token` into a {@link Principal}, revocation included; refusals as {@link tokenRefusal}, logged to `log()`. */
export async function verifyToken(verifier: TokenVerifier, token: string, log: () => Logger): Promise<Principal> {
  try {
    return principalFrom(await verifier.verify(token), token);
  } catch (err) {
    throw tokenRefusal(err, log);
  }
}

/** The token of `Authorization: Bearer <token>`, or UNAUTHENTICATED. */
export function bearerToken(req: Request): string {
  const header = req.header("authorization");
  if (header === undefined) throw unauthenticated("missing Authorization: Bearer token");
  const m = BEARER.exec(header);
  if (!m) throw unauthenticated("Authorization must be: Bearer <token>");
  return m[1]!;
}

const HELD_REFUSAL = "authRefusal";

/**
 * Keeps a refused token's error until {@link raiseHeldRefusal}: the token is
 * checked before the body is parsed (in the same Redis round trip as the
 * buckets), but a malformed body is still answered first, as it always was.
 */
export const holdRefusal = (res: Response, err: unknown): void => void (res.locals[HELD_REFUSAL] = err);

/** After body parsing: fails the request with the held refusal, if any. */
export const raiseHeldRefusal: RequestHandler = (_req, res, next) => {
  const err = res.locals[HELD_REFUSAL] as unknown;
  if (err === undefined) next();
  else next(err);
};

/**
 * `/api`: `Authorization: Bearer <token>` is required; a refusal is held
 * ({@link holdRefusal}), so the per-user bucket after it finds no caller and
 * takes nothing.
 */
export function bearerAuth(verifier: TokenVerifier, logger: Logger): RequestHandler {
  return async (req, res, next) => {
    try {
      setPrincipal(res, await verifyToken(verifier, bearerToken(req), () => logOf(res, logger)));
    } catch (err) {
      holdRefusal(res, err);
    }
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
    setPrincipal(res, await verifyToken(verifier, token, () => logOf(res, logger)));
    next();
  };
}
