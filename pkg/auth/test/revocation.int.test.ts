/**
 * Revocation against the real Redis: a revoked token is refused with `revoked`,
 * the mark expires with the token (EXAT = exp + grace), and nothing else is touched.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { infra } from "../../../test/infra.js";
import { deleteKeysMatching } from "../../../test/support/redis-keys.js";
import { waitFor } from "../../../test/support/wait-for.js";
import { redisFromUrl, type RedisClient } from "../../redis/src/index.js";
import { RevocationStore, TokenError, TokenIssuer, TokenVerifier } from "../src/index.js";
import { AUD, ISS, SECRET, rsaPair } from "./jwt-fixtures.js";

const GRACE = 5;
const TTL = 600;
const prefix = `test:auth:${randomBytes(6).toString("hex")}:revoked:`;
let redis: RedisClient;
let store: RevocationStore;

beforeAll(() => {
  redis = redisFromUrl(infra().redisUrl, { maxRetriesPerRequest: 1 });
  store = new RevocationStore(redis, { keyPrefix: prefix, graceSeconds: GRACE });
});

afterAll(async () => {
  await deleteKeysMatching(redis, `${prefix}*`); // SCAN on every master (KEYS on a Cluster asks one node)
  await redis.quit();
});

async function reason(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenError);
  return (err as TokenError).reason;
}

describe("revocation (real Redis)", () => {
  it.each(["HS256", "RS256"] as const)(
    "%s: a token passes, is revoked, then is refused with 'revoked'; another token of the same user still passes",
    async (alg) => {
      const rsa = rsaPair();
      const issuer = new TokenIssuer({
        key: alg === "HS256" ? { algorithm: alg, secret: SECRET } : { algorithm: alg, privateKey: rsa.privateKey },
        issuer: ISS,
        audience: AUD,
        ttlSeconds: TTL,
      });
      const verifier = new TokenVerifier({
        key: alg === "HS256" ? { algorithm: alg, secret: SECRET } : { algorithm: alg, publicKey: rsa.publicKey },
        issuer: ISS,
        audience: AUD,
        clockToleranceSeconds: GRACE,
        revocations: store,
      });
      const a = issuer.issue(42);
      const b = issuer.issue(42);
      await expect(verifier.verify(a.token)).resolves.toMatchObject({ userId: "42", jti: a.jti });

      await store.revoke(a.jti, a.expiresAt);
      expect(await reason(verifier.verify(a.token))).toBe("revoked");
      expect(await store.isRevoked(a.jti)).toBe(true);
      await expect(verifier.verify(b.token)).resolves.toMatchObject({ jti: b.jti });
      expect(await store.isRevoked(b.jti)).toBe(false);
    },
  );

  it("the mark lives exactly until exp + grace (EXAT), then disappears by itself", async () => {
    const exp = Math.floor(Date.now() / 1000) + 100;
    await store.revoke("exat-check", exp);
    expect(await redis.call("EXPIRETIME", `${prefix}exat-check`)).toBe(exp + GRACE);
    expect(await redis.get(`${prefix}exat-check`)).toBe("1");

    const soon = Math.floor(Date.now() / 1000) + 2 - GRACE;
    await store.revoke("short-lived", soon);
    expect(await store.isRevoked("short-lived")).toBe(true);
    // the entry lives until exp + grace (2 s from now), then Redis expires it
    await waitFor("the revocation to expire", async () => !(await store.isRevoked("short-lived")), 5_000);
    expect(Date.now()).toBeGreaterThanOrEqual((soon + GRACE) * 1_000);
    expect(await store.isRevoked("short-lived")).toBe(false);
  });

  it("revoking a token already past exp + grace writes nothing", async () => {
    await store.revoke("long-gone", Math.floor(Date.now() / 1000) - GRACE - 10);
    expect(await redis.exists(`${prefix}long-gone`)).toBe(0);
  });

  it("a Redis failure during the check is not a TokenError (the caller answers 503, not 401)", async () => {
    const dead = new Redis({ port: 1, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    const verifier = new TokenVerifier({ key: { algorithm: "HS256", secret: SECRET }, issuer: ISS, audience: AUD, revocations: new RevocationStore(dead) });
    const token = new TokenIssuer({ key: { algorithm: "HS256", secret: SECRET }, issuer: ISS, audience: AUD, ttlSeconds: TTL }).issue(1).token;
    const err = await verifier.verify(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TokenError);
    dead.disconnect();
  });
});
