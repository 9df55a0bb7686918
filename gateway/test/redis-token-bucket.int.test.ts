/**
 * The rate limiter against the real Redis: two independent gateway apps (each
 * its own HTTP server on 127.0.0.1:0 and its own Redis connection) share one
 * bucket exactly; buckets refill with time; and an unreachable or silent Redis
 * fails open or closed as configured.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import express from "express";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "@rs/logger";
import { redisFromUrl, type RedisClient } from "@rs/redis";
import { infra } from "../../test/infra.js";
import { privateRedis } from "../../test/support/private-redis.js";
import { deleteKeysMatching } from "../../test/support/redis-keys.js";
import { errorHandler } from "../src/http/error-handler.js";
import { RedisTokenBucket, TOKEN_BUCKET_SHA, rateLimit, userKey, type RateLimitOptions } from "../src/http/redis-token-bucket.js";

const prefix = `test:rl:${randomBytes(6).toString("hex")}:`;
const cleanup: Array<() => Promise<unknown> | void> = [];
let admin: RedisClient;

/** Records warn lines; everything else is dropped. */
function captureLogger() {
  const warns: unknown[] = [];
  const noop = () => {};
  const logger = { warn: (obj: unknown) => void warns.push(obj), error: noop, info: noop, debug: noop, trace: noop, fatal: noop } as unknown as Logger;
  return { logger, warns };
}

interface Gateway {
  url: string;
  registry: Registry;
  warns: unknown[];
}

/** One gateway instance: its own Express app, HTTP server and Redis connection. */
async function startGateway(over: Partial<RateLimitOptions> & { redis?: RedisClient } = {}): Promise<Gateway> {
  let redis = over.redis;
  if (!redis) {
    redis = redisFromUrl(infra().redisUrl, { maxRetriesPerRequest: 1 });
    await redis.ping(); // like a gateway's readiness check: serve once Redis answers
  }
  const registry = new Registry();
  const { logger, warns } = captureLogger();
  const app = express();
  // A generous timeout where the test is not about timeouts: a busy 2-core CI
  // machine must not turn a slow answer into a fail-open.
  const common = { redis, capacity: 20, refillPerSecond: 0.001, keyPrefix: prefix, logger, registry, timeoutMs: 1_000, ...over };
  app.use(
    "/api",
    rateLimit({
      ...common,
      name: "api",
      keyOf: (req) => userKey(String(req.query.user ?? "anon")),
      onLimited: (_req, res, retryAfter) => void res.status(429).set("Retry-After", String(retryAfter)).json({ error: "too many requests" }),
    }),
  );
  app.use(
    "/douyin",
    rateLimit({
      ...common,
      name: "douyin",
      keyOf: (req) => userKey(String(req.query.user ?? "anon")),
      onLimited: (_req, res) => void res.status(200).json({ status_code: 429, status_msg: "too many requests" }),
    }),
  );
  app.get("/api/ping", (_req, res) => void res.json({ ok: true }));
  app.get("/douyin/ping/", (_req, res) => void res.json({ status_code: 0, status_msg: "ok" }));
  app.use(errorHandler(logger));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(
    () => new Promise((resolve) => server.close(resolve)),
    () => void redis.disconnect(),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, registry, warns };
}

async function decisions(gw: Gateway, outcome: string): Promise<number> {
  const metric = await gw.registry.getSingleMetricAsString("gateway_rate_limit_decisions_total");
  return metric
    .split("\n")
    .filter((l) => l.includes(`outcome="${outcome}"`))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

beforeAll(() => {
  admin = redisFromUrl(infra().redisUrl);
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

afterAll(async () => {
  await deleteKeysMatching(admin, `${prefix}*`); // SCAN on every master (KEYS on a Cluster asks one node)
  await admin.quit();
});

describe("rate limit across two gateway instances (real Redis)", () => {
  it("a concurrent burst of 100 through two apps lets exactly `capacity` (20) through", async () => {
    const [a, b] = await Promise.all([startGateway(), startGateway()]);
    const user = "burst";
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => fetch(`${(i % 2 ? a : b).url}/api/ping?user=${user}`)));
    const codes = responses.map((r) => r.status);
    expect(codes.filter((c) => c === 200)).toHaveLength(20);
    expect(codes.filter((c) => c === 429)).toHaveLength(80);
    const limited = responses.find((r) => r.status === 429)!;
    // 1 token per 1000 s: the client is told to come back in 1000 s.
    expect(limited.headers.get("retry-after")).toBe("1000");
    expect(await limited.json()).toEqual({ error: "too many requests" });
    // Each instance decided its 50, and their metrics add up to the truth: 20 in all, where two
    // buckets of their own would have let 40 through. (Which instance got the tokens depends on
    // which one the scheduler ran first, so no share per instance is asserted.)
    expect((await decisions(a, "allowed")) + (await decisions(a, "limited"))).toBe(50);
    expect((await decisions(b, "allowed")) + (await decisions(b, "limited"))).toBe(50);
    expect((await decisions(a, "allowed")) + (await decisions(b, "allowed"))).toBe(20);
    expect((await decisions(a, "limited")) + (await decisions(b, "limited"))).toBe(80);
    // Another user has a bucket of their own.
    expect((await fetch(`${a.url}/api/ping?user=someone-else`)).status).toBe(200);
  });

  it("/douyin answers a limited request with HTTP 200 and status_code != 0", async () => {
    const gw = await startGateway({ capacity: 1 });
    const first = await fetch(`${gw.url}/douyin/ping/?user=dy`);
    expect(await first.json()).toEqual({ status_code: 0, status_msg: "ok" });
    const second = await fetch(`${gw.url}/douyin/ping/?user=dy`);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ status_code: 429, status_msg: "too many requests" });
  });

  it("the bucket refills with time at refillPerSecond, never above capacity", async () => {
    const gw = await startGateway({ capacity: 3, refillPerSecond: 10 });
    const get = () => fetch(`${gw.url}/api/ping?user=refill`);
    for (let i = 0; i < 3; i++) expect((await get()).status).toBe(200);
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1"); // 100 ms, rounded up to whole seconds
    await new Promise((r) => setTimeout(r, 120));
    expect((await get()).status).toBe(200); // one token came back
    expect((await get()).status).toBe(429);
    await new Promise((r) => setTimeout(r, 1_000)); // long enough for 10 tokens; holds 3
    const after = [];
    for (let i = 0; i < 5; i++) after.push((await get()).status);
    expect(after).toEqual([200, 200, 200, 429, 429]);
  });

  it("the bucket reports tokens left and the wait for the next token (Redis clock)", async () => {
    const bucket = new RedisTokenBucket(admin, { capacity: 5, refillPerSecond: 10, keyPrefix: prefix });
    expect(await bucket.take("direct", 2)).toEqual({ allowed: true, tokensLeft: 3, retryAfterMs: 0 });
    expect(await bucket.take("direct", 3)).toMatchObject({ allowed: true, tokensLeft: 0 });
    const denied = await bucket.take("direct", 2);
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBeGreaterThan(150);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(200);
    await new Promise((r) => setTimeout(r, denied.retryAfterMs + 20));
    expect((await bucket.take("direct", 2)).allowed).toBe(true);
    // The key expires by itself once a bucket would be full again (500 ms + margin).
    const pttl = await admin.pttl(`${prefix}direct`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1_500);
  });
});

// Single-node by design, in the integration-cluster project too: each test
// builds its own unreachable, silent or private (killed and restarted) server.
describe("Redis unavailable", () => {
  /** A port nothing listens on. */
  async function closedPort(): Promise<number> {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const { port } = s.address() as AddressInfo;
    await new Promise((r) => s.close(r));
    return port;
  }

  /** A TCP server that accepts and never answers: a Redis that hangs. */
  async function silentServer(): Promise<number> {
    const sockets = new Set<net.Socket>();
    const s = net.createServer((sock) => {
      sockets.add(sock);
      sock.on("error", () => {});
    });
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    cleanup.push(() => {
      for (const sock of sockets) sock.destroy();
      return new Promise((r) => s.close(r));
    });
    return (s.address() as AddressInfo).port;
  }

  const quiet = (r: Redis) => r.on("error", () => {}); // the limiter reports; ioredis need not print
  const refused = async () =>
    quiet(new Redis({ host: "127.0.0.1", port: await closedPort(), enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 1_000 }));
  const hanging = async () => new Redis({ host: "127.0.0.1", port: await silentServer(), maxRetriesPerRequest: 1, connectTimeout: 10_000 });

  it("fails open by default: connection refused -> requests pass, counted and logged once", async () => {
    const gw = await startGateway({ redis: await refused(), capacity: 1 });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await fetch(`${gw.url}/api/ping?user=x`)).status);
    expect(codes).toEqual([200, 200, 200, 200, 200]);
    expect(await decisions(gw, "error")).toBe(5);
    expect(gw.warns).toHaveLength(1);
  });

  it("fails open within the timeout when Redis accepts but never answers", async () => {
    const gw = await startGateway({ redis: await hanging(), timeoutMs: 100 });
    const started = performance.now();
    const res = await fetch(`${gw.url}/api/ping?user=x`);
    const took = performance.now() - started;
    expect(res.status).toBe(200);
    expect(took).toBeGreaterThanOrEqual(90);
    expect(took).toBeLessThan(1_000);
    expect(await decisions(gw, "error")).toBe(1);
  });

  it("failOpen: false -> 503 on /api (through the error handler), for refused and hanging Redis alike", async () => {
    for (const redis of [await refused(), await hanging()]) {
      const gw = await startGateway({ redis, failOpen: false, timeoutMs: 100 });
      const res = await fetch(`${gw.url}/api/ping?user=x`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: "rate limiter unavailable, try again later" });
      expect(await decisions(gw, "failed_closed")).toBe(1);
      expect(await decisions(gw, "allowed")).toBe(0);
    }
  });

  it("a Redis that dies fails open, and the limiter works again once it is back (scripts reloaded after NOSCRIPT)", async () => {
    const server = await privateRedis();
    cleanup.push(() => server.destroy());
    const redis = quiet(new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 }));
    await redis.ping();
    const gw = await startGateway({ redis, capacity: 2, timeoutMs: 100 });
    const get = async () => (await fetch(`${gw.url}/api/ping?user=restart`)).status;
    expect([await get(), await get(), await get()]).toEqual([200, 200, 429]);

    await server.kill();
    expect([await get(), await get()]).toEqual([200, 200]);
    expect(await decisions(gw, "error")).toBe(2);

    await server.start(); // empty: no buckets, no cached scripts
    const deadline = Date.now() + 5_000;
    while (redis.status !== "ready" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(redis.status).toBe("ready");
    expect(await redis.call("SCRIPT", "EXISTS", TOKEN_BUCKET_SHA)).toEqual([0]);
    expect([await get(), await get(), await get()]).toEqual([200, 200, 429]);
    expect(await redis.call("SCRIPT", "EXISTS", TOKEN_BUCKET_SHA)).toEqual([1]);
    expect(await decisions(gw, "error")).toBe(2);
  });
});
