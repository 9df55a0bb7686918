/**
 * Every forgery we know of is refused, each with its own reason; genuine tokens
 * of both algorithms pass. Tokens are built by hand with node:crypto, exactly as
 * an attacker would, not with the library under test.
 */
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TokenError, TokenIssuer, TokenVerifier, type TokenErrorReason } from "../src/index.js";
import { AUD, ISS, NOW_MS, NOW_S, SECRET, claims, flipSignature, hmacToken, rsaPair, rsaToken, unsignedToken, withPayload } from "./jwt-fixtures.js";

const TOLERANCE = 5;
const rsa = rsaPair();
const now = () => NOW_MS;

const hsVerifier = new TokenVerifier({ key: { algorithm: "HS256", secret: SECRET }, issuer: ISS, audience: AUD, clockToleranceSeconds: TOLERANCE, now });
const rsVerifier = new TokenVerifier({
  key: { algorithm: "RS256", publicKey: rsa.publicKey },
  issuer: ISS,
  audience: AUD,
  clockToleranceSeconds: TOLERANCE,
  now,
});
const hsIssuer = (over: Partial<{ issuer: string; audience: string; at: number }> = {}) =>
  new TokenIssuer({
    key: { algorithm: "HS256", secret: SECRET },
    issuer: over.issuer ?? ISS,
    audience: over.audience ?? AUD,
    ttlSeconds: 3600,
    now: () => over.at ?? NOW_MS,
  });
const rsIssuer = new TokenIssuer({ key: { algorithm: "RS256", privateKey: rsa.privateKey }, issuer: ISS, audience: AUD, ttlSeconds: 3600, now });

const HS = { alg: "HS256", typ: "JWT" };
const RS = { alg: "RS256", typ: "JWT" };

async function reasonOf(verifier: TokenVerifier, token: unknown): Promise<TokenErrorReason> {
  try {
    await verifier.verify(token);
  } catch (err) {
    expect(err).toBeInstanceOf(TokenError);
    const e = err as TokenError;
    // Nothing secret in what a caller could log or send.
    expect(`${e.message} ${JSON.stringify(e)} ${e.stack}`).not.toContain(SECRET);
    if (typeof token === "string" && token.length >= 20) expect(e.message).not.toContain(token.slice(0, 20));
    return e.reason;
  }
  throw new Error("token was accepted");
}

describe("genuine tokens", () => {
  it("HS256: issue then verify gives back the user, token id and times", async () => {
    const issued = hsIssuer().issue(42n);
    expect(issued).toMatchObject({ userId: "42", issuedAt: NOW_S, expiresAt: NOW_S + 3600 });
    const header = JSON.parse(Buffer.from(issued.token.split(".")[0]!, "base64url").toString());
    expect(header).toEqual({ alg: "HS256", typ: "JWT" });
    await expect(hsVerifier.verify(issued.token)).resolves.toEqual({ userId: "42", jti: issued.jti, issuedAt: NOW_S, expiresAt: NOW_S + 3600 });
  });

  it("RS256: issue then verify with only the public key", async () => {
    const issued = rsIssuer.issue("9007199254740991");
    await expect(rsVerifier.verify(issued.token)).resolves.toMatchObject({ userId: "9007199254740991", jti: issued.jti });
  });

  it("every token gets its own random jti", () => {
    const ids = new Set(Array.from({ length: 100 }, () => hsIssuer().issue(1).jti));
    expect(ids.size).toBe(100);
  });

  it("a hand-made token with our claims and key passes (the fixtures are right)", async () => {
    await expect(hsVerifier.verify(hmacToken(HS, claims(), SECRET))).resolves.toMatchObject({ userId: "42" });
    await expect(rsVerifier.verify(rsaToken(RS, claims(), rsa.privateKey))).resolves.toMatchObject({ userId: "42" });
  });

  it("refuses to issue for a user id that is not a positive integer below 2^53", () => {
    for (const bad of ["0", "-1", "abc", "9007199254740993", "1e3", ""]) expect(() => hsIssuer().issue(bad)).toThrow(RangeError);
  });
});

describe("forgeries", () => {
  it.each(["none", "None", "NONE", "nOnE"])("alg %s (unsigned) -> bad-algorithm", async (alg) => {
    expect(await reasonOf(hsVerifier, unsignedToken(alg, claims()))).toBe("bad-algorithm");
    expect(await reasonOf(rsVerifier, unsignedToken(alg, claims()))).toBe("bad-algorithm");
  });

  it("alg none with a signature attached -> bad-algorithm", async () => {
    const t = hmacToken({ alg: "none" }, claims(), SECRET);
    expect(await reasonOf(hsVerifier, t)).toBe("bad-algorithm");
  });

  it("key confusion: HS256 signed with the RS256 public key as HMAC secret, to an RS256 verifier -> bad-algorithm", async () => {
    const t = hmacToken(HS, claims(), rsa.publicKey);
    expect(await reasonOf(rsVerifier, t)).toBe("bad-algorithm");
  });

  it("key confusion: an RS256 token to an HS256 verifier -> bad-algorithm", async () => {
    expect(await reasonOf(hsVerifier, rsIssuer.issue(42).token)).toBe("bad-algorithm");
  });

  it("other algorithms of the same families -> bad-algorithm", async () => {
    expect(await reasonOf(hsVerifier, hmacToken({ alg: "HS512" }, claims(), SECRET))).toBe("bad-algorithm");
    expect(await reasonOf(rsVerifier, hmacToken({ alg: "PS256" }, claims(), SECRET))).toBe("bad-algorithm");
  });

  it("expired -> expired; within the clock tolerance it still passes", async () => {
    expect(await reasonOf(hsVerifier, hmacToken(HS, claims({ iat: NOW_S - 7200, exp: NOW_S - TOLERANCE - 1 }), SECRET))).toBe("expired");
    expect(await reasonOf(hsVerifier, hsIssuer({ at: NOW_MS - 3601_000 - TOLERANCE * 1000 }).issue(42).token)).toBe("expired");
    await expect(hsVerifier.verify(hmacToken(HS, claims({ iat: NOW_S - 7200, exp: NOW_S - TOLERANCE + 1 }), SECRET))).resolves.toBeDefined();
  });

  it("not yet valid: nbf or iat in the future beyond the tolerance -> not-yet-valid", async () => {
    expect(await reasonOf(hsVerifier, hmacToken(HS, claims({ nbf: NOW_S + 60 }), SECRET))).toBe("not-yet-valid");
    expect(await reasonOf(hsVerifier, hsIssuer({ at: NOW_MS + 60_000 }).issue(42).token)).toBe("not-yet-valid");
    expect(await reasonOf(rsVerifier, rsaToken(RS, claims({ iat: NOW_S + TOLERANCE + 1 }), rsa.privateKey))).toBe("not-yet-valid");
    await expect(hsVerifier.verify(hmacToken(HS, claims({ iat: NOW_S + TOLERANCE - 1 }), SECRET))).resolves.toBeDefined();
  });

  it("tampered payload (another user) -> bad-signature, both algorithms", async () => {
    expect(await reasonOf(hsVerifier, withPayload(hsIssuer().issue(42).token, claims({ sub: "1" })))).toBe("bad-signature");
    expect(await reasonOf(rsVerifier, withPayload(rsIssuer.issue(42).token, claims({ sub: "1" })))).toBe("bad-signature");
  });

  it("tampered signature -> bad-signature, both algorithms", async () => {
    expect(await reasonOf(hsVerifier, flipSignature(hsIssuer().issue(42).token))).toBe("bad-signature");
    expect(await reasonOf(rsVerifier, flipSignature(rsIssuer.issue(42).token))).toBe("bad-signature");
  });

  it("a header naming the attacker's own key (jwk / jku / kid) is ignored -> bad-signature", async () => {
    const attacker = rsaPair();
    const jwk = createPublicKey(attacker.publicKey).export({ format: "jwk" });
    const header = { ...RS, jwk, jku: "https://attacker.example/keys", kid: "../../dev/null" };
    expect(await reasonOf(rsVerifier, rsaToken(header, claims(), attacker.privateKey))).toBe("bad-signature");
  });

  it("signed with another secret or another private key -> bad-signature", async () => {
    expect(await reasonOf(hsVerifier, hmacToken(HS, claims(), `${SECRET}-other`))).toBe("bad-signature");
    expect(await reasonOf(rsVerifier, rsaToken(RS, claims(), rsaPair().privateKey))).toBe("bad-signature");
  });

  it("wrong or missing iss -> wrong-issuer", async () => {
    expect(await reasonOf(hsVerifier, hsIssuer({ issuer: "evil" }).issue(42).token)).toBe("wrong-issuer");
    expect(await reasonOf(hsVerifier, hmacToken(HS, claims({ iss: undefined }), SECRET))).toBe("wrong-issuer");
  });

  it("wrong or missing aud -> wrong-audience", async () => {
    expect(await reasonOf(rsVerifier, rsaToken(RS, claims({ aud: "other-app" }), rsa.privateKey))).toBe("wrong-audience");
    expect(await reasonOf(hsVerifier, hmacToken(HS, claims({ aud: undefined }), SECRET))).toBe("wrong-audience");
  });

  it("garbage and incomplete tokens -> malformed", async () => {
    const cases: unknown[] = [
      undefined,
      42,
      "",
      "abc",
      "a.b.c",
      "x".repeat(5000),
      `${Buffer.from('{"alg":"HS256"}').toString("base64url")}.not-json.sig`,
      hmacToken(HS, "not json", SECRET),
      hmacToken(HS, '"a json string"', SECRET),
      hmacToken(HS, "[1,2]", SECRET),
      hmacToken(HS, "null", SECRET),
      hmacToken(HS, claims({ exp: undefined }), SECRET),
      hmacToken(HS, claims({ iat: undefined }), SECRET),
      hmacToken(HS, claims({ sub: undefined }), SECRET),
      hmacToken(HS, claims({ sub: "not-a-number" }), SECRET),
      hmacToken(HS, claims({ sub: 42 }), SECRET),
      hmacToken(HS, claims({ jti: undefined }), SECRET),
    ];
    for (const t of cases) expect([t, await reasonOf(hsVerifier, t)]).toEqual([t, "malformed"]);
  });
});

describe("keys", () => {
  it("refuse a short HS256 secret, a small RSA key and a private key as the public one", () => {
    expect(() => new TokenVerifier({ key: { algorithm: "HS256", secret: "short" }, issuer: ISS, audience: AUD })).toThrow(RangeError);
    expect(() => new TokenVerifier({ key: { algorithm: "RS256", publicKey: rsa.privateKey }, issuer: ISS, audience: AUD })).toThrow(/public key/);
    const small = generateKeyPairSync("rsa", {
      modulusLength: 1024,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    expect(() => new TokenVerifier({ key: { algorithm: "RS256", publicKey: small.publicKey }, issuer: ISS, audience: AUD })).toThrow(/2048/);
    expect(() => new TokenIssuer({ key: { algorithm: "RS256", privateKey: small.privateKey }, issuer: ISS, audience: AUD, ttlSeconds: 60 })).toThrow(/2048/);
  });

  it("fromConfig builds a matching pair from jwtSettings, deriving the RS256 public key when only the private one is set", async () => {
    const base = { JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_TTL_SECONDS: 60, JWT_CLOCK_TOLERANCE_SECONDS: TOLERANCE };
    const rsCfg = { ...base, JWT_ALGORITHM: "RS256" as const, JWT_PRIVATE_KEY: rsa.privateKey };
    const token = TokenIssuer.fromConfig(rsCfg, now).issue(7).token;
    await expect(TokenVerifier.fromConfig(rsCfg, { now }).verify(token)).resolves.toMatchObject({ userId: "7" });
    const hsCfg = { ...base, JWT_ALGORITHM: "HS256" as const, JWT_SECRET: SECRET };
    expect(await reasonOf(TokenVerifier.fromConfig(hsCfg, { now }), token)).toBe("bad-algorithm");
    expect(() => TokenIssuer.fromConfig({ ...base, JWT_ALGORITHM: "HS256" })).toThrow(/JWT_SECRET/);
  });
});
