/**
 * Reusable field types for config schemas. Each parses the string an environment
 * variable holds and says in plain words what it expected.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { z } from "zod";

const required = (what: string) => ({ error: (iss: { input: unknown }) => (iss.input === undefined ? `is required (${what})` : `must be ${what}`) });

/** A TCP port; 0 asks the OS for a free one (tests). */
export const port = () => z.coerce.number(required("a port number")).int().min(0, "must be a port (0-65535)").max(65535, "must be a port (0-65535)");

export const positiveInt = () => z.coerce.number(required("a positive integer")).int("must be an integer").positive("must be positive");

export const nonNegativeInt = () => z.coerce.number(required("an integer >= 0")).int("must be an integer").min(0, "must be >= 0");

export const bool = () => z.enum(["true", "false", "1", "0"], required("true or false")).transform((v) => v === "true" || v === "1");

export const string = (what = "a non-empty string") => z.string(required(what)).min(1, `must be ${what}`);

/** A secret: at least `min` characters. The value never appears in an error. */
export const secret = (min = 32) => z.string(required(`a secret of at least ${min} characters`)).min(min, `must be at least ${min} characters`);

/** A comma-separated list of non-empty items. */
export const list = (what: string) =>
  z
    .string(required(`a comma-separated list of ${what}`))
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    )
    .refine((xs) => xs.length > 0, `must list at least one ${what}`);

function isUrlWith(protocols: readonly string[], value: string): boolean {
  try {
    const u = new URL(value);
    return protocols.includes(u.protocol) && u.hostname.length > 0;
  } catch {
    return false;
  }
}

/** A URL with one of the given protocols, e.g. `redis:`. */
export const url = (protocols: readonly string[]) =>
  z.string(required(`a ${protocols.join(" or ")} URL`)).refine((v) => isUrlWith(protocols, v), `must be a ${protocols.join(" or ")}// URL`);

/** `redis-cluster://[user:password@]host:port,host:port,...`: seed nodes of a Redis Cluster (@rs/redis parses it). */
const REDIS_CLUSTER_URL = /^redis-cluster:\/\/(?:[^@/]*@)?[^:,/@]+:\d{1,5}(?:,[^:,/@]+:\d{1,5})*\/?$/;

/** A single Redis (`redis://`, `rediss://`) or a Redis Cluster (`redis-cluster://h1:p1,h2:p2`). */
export const redisUrl = () =>
  z
    .string(required("a redis:// or redis-cluster:// URL"))
    .refine(
      (v) => isUrlWith(["redis:", "rediss:"], v) || REDIS_CLUSTER_URL.test(v),
      "must be a redis://[user:password@]host:port[/db] or redis-cluster://[user:password@]host:port,host:port URL",
    );

/** A comma-separated list of URLs with one of the given protocols. */
export const urlList = (protocols: readonly string[]) =>
  list(`${protocols.join("/")} URLs`).refine((xs) => xs.every((x) => isUrlWith(protocols, x)), `each entry must be a ${protocols.join(" or ")}// URL`);

/** A comma-separated list of MySQL DSNs (`mysql://user:pass@host:port/db`), each with a database name. */
export const dsnList = () =>
  list("mysql:// DSNs").refine(
    (xs) => xs.every((x) => isUrlWith(["mysql:"], x) && new URL(x).pathname.length > 1),
    "each entry must be a mysql://user:password@host:port/database DSN",
  );

/** A comma-separated list of `host:port` pairs. */
export const hostPortList = () =>
  list("host:port pairs").refine((xs) => xs.every((x) => /^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(x)), "each entry must be host:port");

export const logLevel = () => z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info");

/** Smallest RSA modulus accepted for signing keys (what jsonwebtoken and NIST require). */
export const RSA_MIN_MODULUS_BITS = 2048;

function parseRsaKey(pem: string, kind: "private" | "public"): KeyObject | undefined {
  try {
    // A private key parses as a public one too (its public half); refuse it so a
    // private key is never handed to a process that only needs to verify.
    if (kind === "public" && /PRIVATE KEY-----/.test(pem)) return undefined;
    const key = kind === "private" ? createPrivateKey(pem) : createPublicKey(pem);
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return key.asymmetricKeyType === "rsa" && bits >= RSA_MIN_MODULUS_BITS ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A PEM-encoded RSA key (at least {@link RSA_MIN_MODULUS_BITS} bits). Line breaks may
 * be written as a literal `\n`, since many deployment tools cannot pass multi-line
 * variables. The value never appears in an error.
 */
export const rsaPem = (kind: "private" | "public") =>
  z
    .string(required(`a PEM-encoded RSA ${kind} key`))
    .transform((s) => `${s.replace(/\\n/g, "\n").trim()}\n`)
    .refine((s) => parseRsaKey(s, kind) !== undefined, `must be a PEM-encoded RSA ${kind} key of at least ${RSA_MIN_MODULUS_BITS} bits`);

/** True when `publicPem` is the public half of `privatePem` (both already valid). */
export function rsaKeysMatch(privatePem: string, publicPem: string): boolean {
  const priv = parseRsaKey(privatePem, "private");
  const pub = parseRsaKey(publicPem, "public");
  if (!priv || !pub) return false;
  const der = (k: KeyObject) => k.export({ type: "spki", format: "der" });
  return der(createPublicKey(priv)).equals(der(pub));
}
