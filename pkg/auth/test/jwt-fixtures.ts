/** Keys, clocks and hand-made tokens for the JWT tests. */
import { createHmac, createSign, generateKeyPairSync } from "node:crypto";

export const SECRET = "test-secret-that-is-long-enough-0123456789";
export const ISS = "relation-suite";
export const AUD = "relation-suite-apps";
export const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 0);
export const NOW_S = NOW_MS / 1000;

export function rsaPair() {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
}

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** Claims of a valid token at NOW_S, to be overridden per case. */
export function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: "42", jti: "jti-1", iss: ISS, aud: AUD, iat: NOW_S, exp: NOW_S + 3600, ...over };
}

/** Signs exactly what an attacker would: any header, any payload, HMAC with any bytes. */
export function hmacToken(header: Record<string, unknown>, payload: unknown, key: string | Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

export function rsaToken(header: Record<string, unknown>, payload: unknown, privateKeyPem: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createSign("RSA-SHA256").update(input).sign(privateKeyPem, "base64url")}`;
}

export function unsignedToken(alg: string, payload: unknown): string {
  return `${b64({ alg, typ: "JWT" })}.${b64(payload)}.`;
}

/** Replaces the payload of a signed token, keeping its header and signature. */
export function withPayload(token: string, payload: unknown): string {
  const [h, , s] = token.split(".");
  return `${h}.${b64(payload)}.${s}`;
}

/** Changes one character in the middle of the signature (not a padding bit). */
export function flipSignature(token: string): string {
  const [h, p, s = ""] = token.split(".");
  const i = Math.floor(s.length / 2);
  const c = s[i] === "A" ? "B" : "A";
  return `${h}.${p}.${s.slice(0, i)}${c}${s.slice(i + 1)}`;
}
