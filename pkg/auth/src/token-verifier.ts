import type { KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { LRUCache } from "lru-cache";
import { hmacKey, rsaPublicKey, verificationKeyFromConfig, type JwtAlgorithm, type JwtConfig, type VerificationKey } from "./jwt-keys.js";
import { isUserIdString } from "./token-issuer.js";
import { TokenError, type TokenErrorReason } from "./token-error.js";

/** Default skew tolerated between the issuer's clock and ours. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
/** Longer strings are not our tokens; refuse them before any parsing. */
export const MAX_TOKEN_LENGTH = 4096;
const MAX_JTI_LENGTH = 128;
const MS_PER_SECOND = 1000;

/** Answers whether a token id was revoked (see {@link RevocationStore}). */
export interface RevocationChecker {
  isRevoked(jti: string): Promise<boolean>;
}

export interface TokenVerifierOptions {
  readonly key: VerificationKey;
  readonly issuer: string;
  readonly audience: string;
  /** Skew accepted on `exp`, `nbf` and `iat`; default {@link DEFAULT_CLOCK_TOLERANCE_SECONDS}. */
  readonly clockToleranceSeconds?: number;
  /** Consulted after the signature and claims hold; omit to skip revocation. */
  readonly revocations?: RevocationChecker;
  /**
   * Tokens whose signature and claims were verified, kept (token string →
   * claims) so a token presented again skips the signature and JSON work; at
   * most this many, least recently used first out; 0 (the default) keeps none.
   * A kept token is still refused once expired (checked on every use) and still
   * checked for revocation on every {@link TokenVerifier.verify}. See ADR 0020.
   */
  readonly cacheSize?: number;
  /** Clock in milliseconds; tests move it. */
  readonly now?: () => number;
}

/** The claims of a token that passed every check (times in unix seconds). */
export interface VerifiedToken {
  readonly userId: string;
  readonly jti: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

// jsonwebtoken reports everything else through the text of JsonWebTokenError;
// these prefixes are its stable messages (lib/verify.js of v9).
const MESSAGE_REASONS: ReadonlyArray<readonly [string, TokenErrorReason]> = [
  ["invalid signature", "bad-signature"],
  ["jwt issuer invalid", "wrong-issuer"],
  ["jwt audience invalid", "wrong-audience"],
  ["invalid algorithm", "bad-algorithm"],
  ["secretOrPublicKey must be", "bad-algorithm"],
  ['please specify "none"', "bad-algorithm"],
];

function reasonOf(err: unknown): TokenErrorReason {
  if (err instanceof jwt.TokenExpiredError) return "expired";
  if (err instanceof jwt.NotBeforeError) return "not-yet-valid";
  if (err instanceof jwt.JsonWebTokenError) {
    for (const [prefix, reason] of MESSAGE_REASONS) if (err.message.startsWith(prefix)) return reason;
  }
  return "malformed";
}

const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Verifies access tokens with exactly one algorithm (the configured one), a
 * required issuer and audience, a bounded clock tolerance and a revocation check.
 * Every refusal is a {@link TokenError} with a reason; anything else thrown (a
 * revocation store that cannot be reached) is an infrastructure failure the caller
 * should answer as "unavailable", not as "unauthenticated".
 */
export class TokenVerifier {
  readonly algorithm: JwtAlgorithm;
  private readonly key: KeyObject;
  private readonly tolerance: number;
  private readonly now: () => number;
  private readonly verified: LRUCache<string, VerifiedToken> | undefined;

  constructor(private readonly options: TokenVerifierOptions) {
    this.algorithm = options.key.algorithm;
    this.key = options.key.algorithm === "HS256" ? hmacKey(options.key.secret) : rsaPublicKey(options.key.publicKey);
    this.tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    if (!Number.isInteger(this.tolerance) || this.tolerance < 0) throw new RangeError("clockToleranceSeconds must be an integer >= 0");
    this.now = options.now ?? Date.now;
    const cacheSize = options.cacheSize ?? 0;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new RangeError("cacheSize must be an integer >= 0");
    this.verified = cacheSize > 0 ? new LRUCache({ max: cacheSize }) : undefined;
  }

  /** A verifier for the settings of `@rs/config`'s `jwtSettings`. */
  static fromConfig(cfg: JwtConfig, extra: { revocations?: RevocationChecker; cacheSize?: number; now?: () => number } = {}): TokenVerifier {
    return new TokenVerifier({
      key: verificationKeyFromConfig(cfg),
      issuer: cfg.JWT_ISSUER,
      audience: cfg.JWT_AUDIENCE,
      clockToleranceSeconds: cfg.JWT_CLOCK_TOLERANCE_SECONDS,
      ...extra,
    });
  }

  /** Checks a token completely, revocation included. */
  async verify(token: unknown): Promise<VerifiedToken> {
    const claims = this.verifyStateless(token);
    if (this.options.revocations && (await this.options.revocations.isRevoked(claims.jti))) throw new TokenError("revoked");
    return claims;
  }

  /** Everything {@link verify} checks except revocation (no I/O). */
  verifyStateless(token: unknown): VerifiedToken {
    if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new TokenError("malformed");
    if (this.verified === undefined) return this.check(token);
    const nowSeconds = Math.floor(this.now() / MS_PER_SECOND);
    const kept = this.verified.get(token);
    if (kept !== undefined) {
      // jsonwebtoken's rule: expired once now >= exp + tolerance. Nothing else a
      // verified token was checked for changes with time going forward.
      if (nowSeconds < kept.expiresAt + this.tolerance) return kept;
      this.verified.delete(token);
      throw new TokenError("expired");
    }
    const claims = this.check(token);
    // An entry never outlives its token: the TTL ends where the check above would refuse it.
    const ttlMs = (claims.expiresAt + this.tolerance - nowSeconds) * MS_PER_SECOND;
    if (ttlMs > 0) this.verified.set(token, claims, { ttl: ttlMs });
    return claims;
  }

  /** The signature and claims of `token`, from scratch. */
  private check(token: string): VerifiedToken {
    // Decide the algorithm from our configuration, never from the token: a header
    // naming anything else (`none`, the other family) is refused before any key is used.
    let decoded: jwt.Jwt | null;
    try {
      decoded = jwt.decode(token, { complete: true });
    } catch {
      decoded = null; // jsonwebtoken throws on some undecodable payloads and returns null on others
    }
    if (decoded === null || typeof decoded.payload !== "object" || decoded.payload === null || Array.isArray(decoded.payload))
      throw new TokenError("malformed");
    if (decoded.header.alg !== this.algorithm) throw new TokenError("bad-algorithm");

    const nowSeconds = Math.floor(this.now() / MS_PER_SECOND);
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, this.key, {
        algorithms: [this.algorithm],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.tolerance,
        clockTimestamp: nowSeconds,
        complete: false,
      }) as jwt.JwtPayload;
    } catch (err) {
      throw new TokenError(reasonOf(err));
    }

    const { sub, jti, iat, exp } = payload;
    // jsonwebtoken treats exp as optional and ignores iat; a token of ours has both.
    if (!isFiniteNumber(exp) || !isFiniteNumber(iat)) throw new TokenError("malformed");
    if (iat > nowSeconds + this.tolerance) throw new TokenError("not-yet-valid");
    if (typeof sub !== "string" || !isUserIdString(sub)) throw new TokenError("malformed");
    if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw new TokenError("malformed");
    return { userId: sub, jti, issuedAt: iat, expiresAt: exp };
  }
}
