/**
 * The signed-in stage of /api against the real Redis: the one script (address
 * bucket, revocation mark, user bucket in one round trip) and the three separate
 * steps answer every case alike: each limit, revocation (also of a token the
 * verifier has cached), a tampered or expired token, and a malformed body before
 * a bad token. On a Redis Cluster (the integration-cluster project) the script
 * cannot be used and both modes run the separate steps.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RevocationStore, TokenIssuer, TokenVerifier } from "@rs/auth";
import { createLogger } from "@rs/logger";
import { redisFromUrl, type RedisClient } from "@rs/redis";
import { infra } from "../../test/infra.js";
import { deleteKeysMatching } from "../../test/support/redis-keys.js";
import { createApp } from "../src/app.js";
import type { GatewayClients } from "../src/clients/service-clients.js";
import { redisLimiterFactory } from "../src/http/limits.js";
import { api } from "./support/http.js";
import { offlineConfig, offlineDeps } from "./support/offline-deps.js";

const prefix = `test:signed-in:${randomBytes(6).toString("hex")}:`;
const logger = createLogger("signed-in-test", "silent");
const servers: http.Server[] = [];
let redis: RedisClient;
/** Commands the app's Redis client sent, by name. */
const sent: string[] = [];

/** Clients with only GetUser, answering any id. */
const clients = {
  user: { getUser: ({ userId }: { userId: number }) => Promise.resolve({ user: { id: userId, name: `u${userId}` } }) },
} as unknown as GatewayClients;

type Mode = "script" | "steps";
let run = 0;

/** A gateway app on its own port and its own bucket keys, with the given limits. */
async function gateway(mode: Mode, limits: Record<string, string>) {
  const keyPrefix = `${prefix}${run++}:`;
  const config = offlineConfig({
    RATE_LIMIT_KEY_PREFIX: `${keyPrefix}rl:`,
    RATE_LIMIT_IP_CAPACITY: "1000",
    RATE_LIMIT_USER_CAPACITY: "1000",
    RATE_LIMIT_IP_REFILL_PER_SECOND: "0.001",
    RATE_LIMIT_USER_REFILL_PER_SECOND: "0.001",
    // A slow shared CI Redis must not turn an answer into a fail-open.
    RATE_LIMIT_TIMEOUT_MS: "2000",
    ...limits,
  });
  const revocations = new RevocationStore(redis, { keyPrefix: `${keyPrefix}revoked:` });
  const verifier = TokenVerifier.fromConfig(config, { revocations, cacheSize: 100 });
  const app = createApp(
    offlineDeps({
      config,
      logger,
      clients,
      verifier,
      limiter: redisLimiterFactory(redis, config, logger),
      ...(mode === "script" ? { signedInChecks: { redis, revocations } } : {}),
    }),
  );
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = TokenIssuer.fromConfig(config);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, issuer, revocations, config };
}

const me = (url: string, token?: string) => api(url, "GET", "/user/me", token === undefined ? {} : { token });

beforeAll(async () => {
  redis = redisFromUrl(infra().redisUrl, { maxRetriesPerRequest: 1 });
  await redis.ping();
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
    sent.push(cmd.name);
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as typeof redis.sendCommand;
});

afterAll(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  await deleteKeysMatching(redis, `${prefix}*`);
  redis.disconnect();
});

describe.each<Mode>(["script", "steps"])("signed-in stage: %s", (mode) => {
  it("the address bucket first: over it, a valid, revoked or missing token all get 429", async () => {
    const gw = await gateway(mode, { RATE_LIMIT_IP_CAPACITY: "3" });
    const a = gw.issuer.issue(7);
    const revoked = gw.issuer.issue(7);
    await gw.revocations.revoke(revoked.jti, revoked.expiresAt);
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await me(gw.url, a.token)).status);
    const limited = await me(gw.url, a.token);
    codes.push(limited.status, (await me(gw.url, revoked.token)).status, (await me(gw.url)).status);
    expect(codes).toEqual([200, 200, 200, 429, 429, 429]);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ code: "RESOURCE_EXHAUSTED" });
  });

  it("requests without a usable token still take from the address bucket", async () => {
    const gw = await gateway(mode, { RATE_LIMIT_IP_CAPACITY: "2" });
    expect((await me(gw.url)).status).toBe(401);
    expect((await me(gw.url, "not.a.token")).status).toBe(401);
    expect((await me(gw.url, gw.issuer.issue(7).token)).status).toBe(429);
  });

  it("the user bucket: per user, whichever token; another user has their own", async () => {
    const gw = await gateway(mode, { RATE_LIMIT_USER_CAPACITY: "2" });
    const [t1, t2, other] = [gw.issuer.issue(7), gw.issuer.issue(7), gw.issuer.issue(8)];
    const codes = [(await me(gw.url, t1.token)).status, (await me(gw.url, t2.token)).status];
    const limited = await me(gw.url, t1.token);
    codes.push(limited.status, (await me(gw.url, other.token)).status);
    expect(codes).toEqual([200, 200, 429, 200]);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("revocation is checked on every request, also of a token verified (and cached) before; it takes nothing from the user bucket", async () => {
    const gw = await gateway(mode, { RATE_LIMIT_USER_CAPACITY: "2" });
    const t = gw.issuer.issue(7);
    expect((await me(gw.url, t.token)).status).toBe(200);
    await gw.revocations.revoke(t.jti, t.expiresAt);
    for (let i = 0; i < 3; i++) {
      const r = await me(gw.url, t.token);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: "UNAUTHENTICATED", error: "invalid token" });
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="api"');
    }
    // One token of the user's bucket is left: the refused requests took none.
    expect((await me(gw.url, gw.issuer.issue(7).token)).status).toBe(200);
    expect((await me(gw.url, gw.issuer.issue(7).token)).status).toBe(429);
  });

  it("a tampered copy of a cached token and an expired token are refused with their messages", async () => {
    const gw = await gateway(mode, {});
    const t = gw.issuer.issue(7);
    expect((await me(gw.url, t.token)).status).toBe(200);
    const [h, p, s = ""] = t.token.split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), sub: "8" })).toString("base64url")}.${s}`;
    expect((await me(gw.url, forged)).body).toMatchObject({ code: "UNAUTHENTICATED", error: "invalid token" });
    const expired = TokenIssuer.fromConfig(gw.config, () => Date.now() - (gw.config.JWT_TTL_SECONDS + 60) * 1000).issue(7);
    expect((await me(gw.url, expired.token)).body).toMatchObject({ code: "UNAUTHENTICATED", error: "token expired, sign in again" });
    expect((await me(gw.url)).body).toMatchObject({ code: "UNAUTHENTICATED", error: "missing Authorization: Bearer token" });
    expect((await api(gw.url, "GET", "/user/me", { headers: { authorization: "Basic x" } })).body).toMatchObject({
      error: "Authorization must be: Bearer <token>",
    });
  });

  it("a malformed body is answered (400) before a missing or bad token (401), as before", async () => {
    const gw = await gateway(mode, {});
    const post = (headers: Record<string, string>) =>
      fetch(`${gw.url}/api/relation/follow`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{nope" });
    expect((await post({})).status).toBe(400);
    expect((await post({ authorization: "Bearer bad.token.here" })).status).toBe(400);
    const unknownRoute = await api(gw.url, "GET", "/nowhere", { token: gw.issuer.issue(7).token });
    expect(unknownRoute.status).toBe(404);
  });

  it(`costs ${mode === "script" ? "one Redis command" : "three Redis commands"} per signed-in request (one script on a single Redis)`, async () => {
    const gw = await gateway(mode, {});
    const t = gw.issuer.issue(7).token;
    expect((await me(gw.url, t)).status).toBe(200); // loads the scripts
    sent.length = 0;
    expect((await me(gw.url, t)).status).toBe(200);
    const expected = mode === "script" && !redis.isCluster ? 1 : 3;
    expect(sent).toHaveLength(expected);
  });
});
