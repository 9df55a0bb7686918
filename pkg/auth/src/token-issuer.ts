import { randomBytes } from "node:crypto";
import type { KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { hmacKey, rsaPrivateKey, signingKeyFromConfig, type JwtAlgorithm, type JwtConfig, type SigningKey } from "./jwt-keys.js";

/** Random bytes in a token id: 128 bits, so ids never collide in practice. */
const JTI_BYTES = 16;
const MS_PER_SECOND = 1000;
/** Ids are integers below 2^53 (docs/design.md §2), written in decimal. */
const USER_ID_PATTERN = /^[1-9][0-9]{0,15}$/;

export interface TokenIssuerOptions {
  readonly key: SigningKey;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /** Clock in milliseconds; tests move it. */
  readonly now?: () => number;
}

/** A freshly signed token and the claims a caller may want to keep (times in unix seconds). */
export interface IssuedToken {
  readonly token: string;
  readonly jti: string;
  readonly userId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** True for a user id a token may carry: a positive integer below 2^53, in decimal. */
export function isUserIdString(id: string): boolean {
  return USER_ID_PATTERN.test(id) && Number(id) <= Number.MAX_SAFE_INTEGER;
}

/** Signs access tokens: `sub` (user id as a string), `iat`, `exp`, `iss`, `aud` and a random `jti`. */
export class TokenIssuer {
  readonly algorithm: JwtAlgorithm;
  private readonly key: KeyObject;
  private readonly now: () => number;

  constructor(private readonly options: TokenIssuerOptions) {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds <= 0) throw new RangeError("ttlSeconds must be a positive integer");
    this.algorithm = options.key.algorithm;
    this.key = options.key.algorithm === "HS256" ? hmacKey(options.key.secret) : rsaPrivateKey(options.key.privateKey);
    this.now = options.now ?? Date.now;
  }

  /** An issuer for the settings of `@rs/config`'s `jwtSettings`. */
  static fromConfig(cfg: JwtConfig, now?: () => number): TokenIssuer {
    return new TokenIssuer({ key: signingKeyFromConfig(cfg), issuer: cfg.JWT_ISSUER, audience: cfg.JWT_AUDIENCE, ttlSeconds: cfg.JWT_TTL_SECONDS, now });
  }

  /** Signs a token for `userId`. */
  issue(userId: string | number | bigint): IssuedToken {
    const sub = String(userId);
    if (!isUserIdString(sub)) throw new RangeError("userId must be a positive integer below 2^53");
    const issuedAt = Math.floor(this.now() / MS_PER_SECOND);
    const expiresAt = issuedAt + this.options.ttlSeconds;
    const jti = randomBytes(JTI_BYTES).toString("base64url");
    const payload = { sub, jti, iss: this.options.issuer, aud: this.options.audience, iat: issuedAt, exp: expiresAt };
    const token = jwt.sign(payload, this.key, { algorithm: this.algorithm, header: { alg: this.algorithm, typ: "JWT" } });
    return { token, jti, userId: sub, issuedAt, expiresAt };
  }
}
