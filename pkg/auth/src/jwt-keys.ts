/**
 * Key material of the two supported algorithms, turned into `KeyObject`s once.
 * Passing typed keys (not strings) to jsonwebtoken also makes it refuse an HMAC
 * verification with an RSA key and the reverse, a second guard against key confusion.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from "node:crypto";

export type JwtAlgorithm = "HS256" | "RS256";

/** Shortest HS256 secret accepted: 256 bits, the size of the HMAC-SHA256 output. */
export const HS256_SECRET_MIN_BYTES = 32;
/** Smallest RSA modulus accepted for RS256. */
export const RS256_MIN_MODULUS_BITS = 2048;

/** What a {@link TokenIssuer} signs with. */
export type SigningKey = { algorithm: "HS256"; secret: string | Buffer } | { algorithm: "RS256"; privateKey: string | KeyObject };

/** What a {@link TokenVerifier} checks with. */
export type VerificationKey = { algorithm: "HS256"; secret: string | Buffer } | { algorithm: "RS256"; publicKey: string | KeyObject };

export function hmacKey(secret: string | Buffer): KeyObject {
  const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : secret;
  if (bytes.length < HS256_SECRET_MIN_BYTES) throw new RangeError(`HS256 secret must be at least ${HS256_SECRET_MIN_BYTES} bytes`);
  return createSecretKey(bytes);
}

function assertRsa(key: KeyObject): KeyObject {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== "rsa" || bits < RS256_MIN_MODULUS_BITS) {
    throw new RangeError(`RS256 needs an RSA key of at least ${RS256_MIN_MODULUS_BITS} bits`);
  }
  return key;
}

export function rsaPrivateKey(key: string | KeyObject): KeyObject {
  const obj = typeof key === "string" ? createPrivateKey(key) : key;
  if (obj.type !== "private") throw new TypeError("RS256 signing needs a private key");
  return assertRsa(obj);
}

export function rsaPublicKey(key: string | KeyObject): KeyObject {
  // A private key would parse as its public half; insist on a public one so a
  // verifier is never configured with signing power.
  if (typeof key === "string" && /PRIVATE KEY-----/.test(key)) throw new TypeError("RS256 verification needs a public key, not a private one");
  const obj = typeof key === "string" ? createPublicKey(key) : key;
  if (obj.type !== "public") throw new TypeError("RS256 verification needs a public key");
  return assertRsa(obj);
}

/** The settings of `@rs/config`'s `jwtSettings`, as far as tokens need them. */
export interface JwtConfig {
  readonly JWT_ALGORITHM: JwtAlgorithm;
  readonly JWT_SECRET?: string | undefined;
  readonly JWT_PRIVATE_KEY?: string | undefined;
  readonly JWT_PUBLIC_KEY?: string | undefined;
  readonly JWT_ISSUER: string;
  readonly JWT_AUDIENCE: string;
  readonly JWT_TTL_SECONDS: number;
  readonly JWT_CLOCK_TOLERANCE_SECONDS: number;
}

function missing(variable: string): never {
  throw new TypeError(`${variable} is required for JWT_ALGORITHM in use`);
}

/** The signing key a validated config names. */
export function signingKeyFromConfig(cfg: JwtConfig): SigningKey {
  if (cfg.JWT_ALGORITHM === "HS256") return { algorithm: "HS256", secret: cfg.JWT_SECRET ?? missing("JWT_SECRET") };
  return { algorithm: "RS256", privateKey: cfg.JWT_PRIVATE_KEY ?? missing("JWT_PRIVATE_KEY") };
}

/** The verification key a validated config names; an issuer may derive it from its private key. */
export function verificationKeyFromConfig(cfg: JwtConfig): VerificationKey {
  if (cfg.JWT_ALGORITHM === "HS256") return { algorithm: "HS256", secret: cfg.JWT_SECRET ?? missing("JWT_SECRET") };
  if (cfg.JWT_PUBLIC_KEY !== undefined) return { algorithm: "RS256", publicKey: cfg.JWT_PUBLIC_KEY };
  const priv = cfg.JWT_PRIVATE_KEY ?? missing("JWT_PUBLIC_KEY");
  return { algorithm: "RS256", publicKey: createPublicKey(priv) };
}
