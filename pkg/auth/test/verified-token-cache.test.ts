/**
 * The verifier's cache of verified tokens (`cacheSize`): a token presented again
 * skips the signature check, but an expired one is refused even when kept, a
 * tampered one is never a hit, and revocation is asked on every verify.
 */
import { describe, expect, it } from "vitest";
import { TokenVerifier, type TokenErrorReason } from "../src/index.js";
import { AUD, ISS, NOW_MS, NOW_S, SECRET, claims, flipSignature, hmacToken, withPayload } from "./jwt-fixtures.js";

const TOLERANCE = 5;
const HS = { alg: "HS256", typ: "JWT" };

/** A caching verifier on a clock the test moves, and a revocation list the test fills. */
function setup(cacheSize = 10) {
  const clock = { ms: NOW_MS };
  const revoked = new Set<string>();
  let revocationChecks = 0;
  const verifier = new TokenVerifier({
    key: { algorithm: "HS256", secret: SECRET },
    issuer: ISS,
    audience: AUD,
    clockToleranceSeconds: TOLERANCE,
    cacheSize,
    now: () => clock.ms,
    revocations: {
      isRevoked: (jti) => {
        revocationChecks++;
        return Promise.resolve(revoked.has(jti));
      },
    },
  });
  return { verifier, clock, revoked, revocationChecks: () => revocationChecks };
}

async function reasonOf(verifier: TokenVerifier, token: string): Promise<TokenErrorReason | "accepted"> {
  try {
    await verifier.verify(token);
    return "accepted";
  } catch (err) {
    return (err as { reason: TokenErrorReason }).reason;
  }
}

describe("verified-token cache", () => {
  it("gives the same claims from the cache as from the first check", async () => {
    const { verifier } = setup();
    const token = hmacToken(HS, claims(), SECRET);
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toEqual(first);
    expect(first).toEqual({ userId: "42", jti: "jti-1", issuedAt: NOW_S, expiresAt: NOW_S + 3600 });
  });

  it("never accepts an expired token, however recently it was verified", async () => {
    const { verifier, clock } = setup();
    const token = hmacToken(HS, claims({ exp: NOW_S + 60 }), SECRET);
    expect(await reasonOf(verifier, token)).toBe("accepted");
    // jsonwebtoken's rule, kept by the cache: accepted while now < exp + tolerance.
    clock.ms = (NOW_S + 60 + TOLERANCE - 1) * 1000;
    expect(await reasonOf(verifier, token)).toBe("accepted");
    clock.ms = (NOW_S + 60 + TOLERANCE) * 1000;
    expect(await reasonOf(verifier, token)).toBe("expired");
    expect(await reasonOf(verifier, token)).toBe("expired");
    // The same verdict as a verifier without a cache.
    const plain = new TokenVerifier({
      key: { algorithm: "HS256", secret: SECRET },
      issuer: ISS,
      audience: AUD,
      clockToleranceSeconds: TOLERANCE,
      now: () => clock.ms,
    });
    expect(await reasonOf(plain, token)).toBe("expired");
  });

  it("asks for revocation on every verify, cached or not", async () => {
    const { verifier, revoked, revocationChecks } = setup();
    const token = hmacToken(HS, claims(), SECRET);
    expect(await reasonOf(verifier, token)).toBe("accepted");
    expect(await reasonOf(verifier, token)).toBe("accepted");
    revoked.add("jti-1");
    expect(await reasonOf(verifier, token)).toBe("revoked");
    expect(revocationChecks()).toBe(3);
  });

  it("refuses a tampered copy of a cached token: signature or payload changed", async () => {
    const { verifier } = setup();
    const token = hmacToken(HS, claims(), SECRET);
    expect(await reasonOf(verifier, token)).toBe("accepted");
    expect(await reasonOf(verifier, flipSignature(token))).toBe("bad-signature");
    expect(await reasonOf(verifier, withPayload(token, claims({ sub: "43" })))).toBe("bad-signature");
    expect(await reasonOf(verifier, `${token}x`)).toBe("bad-signature");
    expect(await reasonOf(verifier, token)).toBe("accepted");
  });

  it("keeps no refused token: a token not yet valid passes once its time has come", async () => {
    const { verifier, clock } = setup();
    const token = hmacToken(HS, claims({ nbf: NOW_S + 60 }), SECRET);
    expect(await reasonOf(verifier, token)).toBe("not-yet-valid");
    clock.ms = (NOW_S + 60) * 1000;
    expect(await reasonOf(verifier, token)).toBe("accepted");
  });

  it("holds at most cacheSize tokens, and each of them still verifies", async () => {
    const { verifier } = setup(2);
    const tokens = [1, 2, 3].map((i) => hmacToken(HS, claims({ jti: `jti-${i}` }), SECRET));
    for (const t of [...tokens, ...tokens]) expect(await reasonOf(verifier, t)).toBe("accepted");
    expect((verifier as unknown as { verified: { size: number } }).verified.size).toBe(2);
  });

  it("refuses a bad cacheSize", () => {
    expect(() => setup(-1)).toThrow(RangeError);
    expect(() => setup(1.5)).toThrow(RangeError);
  });
});
