/**
 * Authentication: access tokens (issue, verify with one fixed algorithm,
 * revoke in Redis) and bcrypt password hashing.
 */
export { TokenIssuer, isUserIdString, type IssuedToken, type TokenIssuerOptions } from "./token-issuer.js";
export {
  TokenVerifier,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  MAX_TOKEN_LENGTH,
  type RevocationChecker,
  type TokenVerifierOptions,
  type VerifiedToken,
} from "./token-verifier.js";
export { TokenError, isTokenError, TOKEN_ERROR_REASONS, type TokenErrorReason } from "./token-error.js";
export { RevocationStore, REVOCATION_KEY_PREFIX, type RevocationStoreOptions } from "./revocation-store.js";
export {
  HS256_SECRET_MIN_BYTES,
  RS256_MIN_MODULUS_BITS,
  signingKeyFromConfig,
  verificationKeyFromConfig,
  type JwtAlgorithm,
  type JwtConfig,
  type SigningKey,
  type VerificationKey,
} from "./jwt-keys.js";
export { hashPassword, verifyPassword, needsRehash, passwordFitsBcrypt, BCRYPT_MAX_PASSWORD_BYTES } from "./password.js";
