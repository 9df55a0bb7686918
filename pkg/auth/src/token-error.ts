/**
 * Why a token was refused. The reason is safe to log and to map to a response;
 * the message never carries the token, the key or the secret.
 */
export const TOKEN_ERROR_REASONS = [
  "expired",
  "not-yet-valid",
  "bad-signature",
  "wrong-issuer",
  "wrong-audience",
  "revoked",
  "malformed",
  "bad-algorithm",
] as const;

export type TokenErrorReason = (typeof TOKEN_ERROR_REASONS)[number];

/** Thrown by {@link TokenVerifier.verify} for every token it refuses. */
export class TokenError extends Error {
  constructor(readonly reason: TokenErrorReason) {
    super(`token refused: ${reason}`);
    this.name = "TokenError";
  }
}

/** True for a {@link TokenError} (also across duplicated module instances). */
export function isTokenError(err: unknown): err is TokenError {
  return err instanceof TokenError || (err instanceof Error && err.name === "TokenError" && TOKEN_ERROR_REASONS.includes((err as TokenError).reason));
}
