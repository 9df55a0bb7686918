/**
 * The gateway process as deployed: admin endpoints, request ids on answers and
 * log lines (never the token), CORS, the served OpenAPI document and docs page,
 * unknown routes, and the rate limits as wired from settings (per user across
 * two instances, per address, register/login), in both families' shapes.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRoutes } from "../src/api/api.router.js";
import { buildOpenApiDocument } from "../src/api/openapi.js";
import { API_VERSION } from "../src/api/api.router.js";
import { loadGatewayConfig } from "../src/config.js";
import { privateRedis } from "../../test/support/private-redis.js";
import { startFaultProxy } from "../../test/support/fault-proxy.js";
import { waitFor } from "../../test/support/wait-for.js";
import { infra } from "../../test/infra.js";
import { unusedClients } from "./support/offline-deps.js";
import { api, douyin, uniqueName } from "./support/http.js";
import { startLiveSuite, type LiveSuite } from "./support/live-suite.js";

let s: LiveSuite;
let user: { id: number; token: string };
beforeAll(async () => {
  s = await startLiveSuite();
  const r = await api<{ userId: number; token: string }>(s.url, "POST", "/user/register", { body: { username: uniqueName("gp"), password: "secret-pw" } });
  user = { id: r.body.userId, token: r.body.token };
});
afterAll(async () => {
  await s?.stop();
});

describe("admin endpoints", () => {
  it("/healthz, /readyz (Redis) and /metrics with per-route request latency", async () => {
    const admin = `http://127.0.0.1:${s.gateway.adminPort}`;
    expect((await fetch(`${admin}/healthz`)).status).toBe(200);
    const ready = await fetch(`${admin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: [{ name: "redis", ok: true }] });
    await api(s.url, "GET", "/user/me", { token: user.token });
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/user\/me",status_code="200"\} \d+/);
    expect(metrics).toContain("gateway_rate_limit_decisions_total");
  });
});

describe("request ids", () => {
  it("every answer carries one: the caller's when well-formed, a fresh one otherwise", async () => {
    const given = await api(s.url, "GET", "/user/me", { token: user.token, headers: { "x-request-id": "trace-me-123" } });
    expect(given.headers.get("x-request-id")).toBe("trace-me-123");
    const bad = await api(s.url, "GET", "/user/me", { token: user.token, headers: { "x-request-id": "bad id\twith junk" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    for (const path of ["/api/nowhere", "/douyin/nowhere/", "/nowhere"]) {
      const r = await fetch(`${s.url}${path}`);
      expect(r.status).toBe(404);
      expect(r.headers.get("x-request-id")).toBeTruthy();
    }
    expect(await (await fetch(`${s.url}/douyin/nowhere/`)).json()).toEqual({ status_code: 404, status_msg: "no such route" });
    expect(await (await fetch(`${s.url}/api/nowhere`)).json()).toMatchObject({ code: "NOT_FOUND", requestId: expect.any(String) });
  });

  it("every log line of a request carries its id; the token never reaches the log", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const gw = await s.startAnotherGateway({}, { logger: pino({ level: "debug", base: { service: "gateway" } }, sink) });
    await douyin(gw.url, "GET", "/user/", { token: user.token }, "query");
    await fetch(`${gw.url}/douyin/user/?token=forged.${user.token.split(".")[1]}.sig`, { headers: { "x-request-id": "forged-1" } });
    // the access line is written when the response has finished, maybe after the client read it
    const requestLines = () => lines.filter((l) => l.msg === "request");
    await waitFor(
      "both requests' access lines",
      () => requestLines().length >= 2 && lines.some((l) => l.requestId === "forged-1" && l.msg === "request"),
      5_000,
    );
    expect(requestLines().length).toBeGreaterThanOrEqual(2);
    for (const l of requestLines()) expect(l.requestId).toEqual(expect.any(String));
    const forged = lines.filter((l) => l.requestId === "forged-1");
    expect(forged.map((l) => l.msg)).toEqual(expect.arrayContaining(["token refused", "request"]));
    const text = JSON.stringify(lines);
    expect(text).not.toContain(user.token);
    expect(text).not.toContain(user.token.split(".")[2]!);
  });
});

describe("CORS", () => {
  it("off by default; the configured origins only when set", async () => {
    const pre = (base: string, origin: string) =>
      fetch(`${base}/api/user/me`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      });
    expect((await pre(s.url, "https://app.example.com")).headers.get("access-control-allow-origin")).toBeNull();

    const gw = await s.startAnotherGateway({ CORS_ORIGINS: "https://app.example.com" });
    const ok = await pre(gw.url, "https://app.example.com");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/authorization/i);
    expect((await pre(gw.url, "https://evil.example.com")).headers.get("access-control-allow-origin")).toBeNull();
    const get = await fetch(`${gw.url}/api/user/me`, { headers: { origin: "https://app.example.com", authorization: `Bearer ${user.token}` } });
    expect(get.headers.get("access-control-expose-headers")).toMatch(/x-request-id/i);
  });
});

describe("OpenAPI and docs", () => {
  it("/api/openapi.json is the document built from the route declarations", async () => {
    const served = (await api(s.url, "GET", "/openapi.json")).body;
    const cfg = loadGatewayConfig({ JWT_SECRET: "x".repeat(40), REDIS_URL: "redis://h:1", ETCD_ENDPOINTS: "http://h:1", HTTP_PORT: "0" });
    expect(served).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(apiRoutes(unusedClients(), cfg), API_VERSION))));
  });

  it("/api/docs serves Swagger UI from the gateway itself, nothing from a CDN", async () => {
    const page = await fetch(`${s.url}/api/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("swagger-ui");
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const a of assets) {
      expect(a).not.toMatch(/^(https?:)?\/\//);
      expect((await fetch(new URL(a, `${s.url}/api/docs/`))).status, a).toBe(200);
    }
    const init = await (await fetch(`${s.url}/api/docs/swagger-ui-init.js`)).text();
    expect(init).toContain("/api/openapi.json");
    expect(init).toMatch(/"validatorUrl":\s*null/);
  });
});

describe("rate limits as configured", () => {
  it("per user, exact across two gateway instances: 429 + Retry-After on /api, status_code 429 on /douyin", async () => {
    const limits = { RATE_LIMIT_KEY_PREFIX: `${s.keyPrefix}rl-user:`, RATE_LIMIT_USER_CAPACITY: "6", RATE_LIMIT_USER_REFILL_PER_SECOND: "0.01" };
    const [a, b] = [await s.startAnotherGateway(limits), await s.startAnotherGateway(limits)];
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => api(i % 2 ? a.url : b.url, "GET", "/user/me", { token: user.token })));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(6);
    const limited = answers.filter((r) => r.status === 429);
    expect(limited).toHaveLength(24);
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited[0]!.body).toMatchObject({ code: "RESOURCE_EXHAUSTED" });

    // The same bucket on /douyin: HTTP 200, status_code 429, the route's keys.
    const dy = await douyin(a.url, "GET", "/relation/follow/list/", { token: user.token, user_id: user.id });
    expect(dy.status).toBe(200);
    expect(dy.body).toEqual({ status_code: 429, status_msg: expect.any(String), user_list: [] });
    // Another user has a bucket of their own.
    const other = await api<{ token: string }>(a.url, "POST", "/user/register", { body: { username: uniqueName("rl"), password: "secret-pw" } });
    expect((await api(b.url, "GET", "/user/me", { token: other.body.token })).status).toBe(200);
  });

  it("per address, before authentication", async () => {
    const gw = await s.startAnotherGateway({
      RATE_LIMIT_KEY_PREFIX: `${s.keyPrefix}rl-ip:`,
      RATE_LIMIT_IP_CAPACITY: "3",
      RATE_LIMIT_IP_REFILL_PER_SECOND: "0.01",
    });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await api(gw.url, "GET", "/user/me")).status);
    expect(codes).toEqual([401, 401, 401, 429, 429]);
    expect((await douyin(gw.url, "GET", "/user/", { user_id: user.id })).body).toMatchObject({ status_code: 429, user: null });
  });

  it("register/login: a small bucket per address, in both families", async () => {
    const gw = await s.startAnotherGateway({
      RATE_LIMIT_KEY_PREFIX: `${s.keyPrefix}rl-auth:`,
      RATE_LIMIT_AUTH_CAPACITY: "2",
      RATE_LIMIT_AUTH_REFILL_PER_SECOND: "0.01",
    });
    const creds = { username: uniqueName("nope"), password: "wrong-password" };
    expect((await api(gw.url, "POST", "/user/login", { body: creds })).status).toBe(401);
    expect((await douyin(gw.url, "POST", "/user/login/", creds)).body).toMatchObject({ status_code: 401 });
    const third = await api(gw.url, "POST", "/user/login", { body: creds });
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBeTruthy();
    expect((await douyin(gw.url, "POST", "/user/register/", { username: uniqueName("x"), password: "secret-pw" })).body).toEqual({
      status_code: 429,
      status_msg: expect.any(String),
      user_id: 0,
      token: "",
    });
    // Signed-in routes are not charged to the register/login bucket.
    expect((await api(gw.url, "GET", "/user/me", { token: user.token })).status).toBe(200);
  });
});

describe("the gateway's Redis down", () => {
  it("revocation fails closed (503), the limiter fails open, public routes keep working", async () => {
    const redis = await privateRedis();
    try {
      const gw = await s.startAnotherGateway({ REDIS_URL: redis.url });
      expect((await api(gw.url, "GET", "/user/me", { token: user.token })).status).toBe(200);
      await redis.kill();
      const me = await api(gw.url, "GET", "/user/me", { token: user.token });
      expect(me.status).toBe(503);
      expect(me.body).toMatchObject({ code: "UNAVAILABLE", error: "cannot check the token right now, try again later" });
      expect((await douyin(gw.url, "GET", "/relation/follow/list/", { token: user.token })).body).toMatchObject({ status_code: 503, user_list: [] });
      const pub = await douyin(gw.url, "GET", "/user/", { user_id: user.id });
      expect(pub.body).toMatchObject({ status_code: 0, user: { id: user.id } });
      const ready = await fetch(`http://127.0.0.1:${gw.adminPort}/readyz`);
      expect(ready.status).toBe(503);
    } finally {
      await redis.destroy();
    }
  });

  it("register/login fail closed (503 + Retry-After) although RATE_LIMIT_FAIL_OPEN lets other routes through", async () => {
    const target = new URL(infra().redisUrl);
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
    try {
      const gw = await s.startAnotherGateway({ REDIS_URL: `redis://${proxy.host}:${proxy.port}`, RATE_LIMIT_FAIL_OPEN: "true" });
      const creds = { username: uniqueName("cl"), password: "secret-pw" };
      expect((await api(gw.url, "POST", "/user/login", { body: creds })).status).toBe(401);
      // Redis unreachable: new connections refused, open ones cut.
      proxy.refuse();
      proxy.dropConnections();
      const message = "sign-in is paused: register/login attempts cannot be rate-limited right now, try again later";
      for (const path of ["/user/login", "/user/register"]) {
        const r = await api(gw.url, "POST", path, { body: creds });
        expect(r.status).toBe(503);
        expect(r.body).toMatchObject({ code: "UNAVAILABLE", error: message });
        expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      }
      const d = await douyin(gw.url, "POST", "/user/login/", creds);
      expect(d.body).toEqual({ status_code: 503, status_msg: message, user_id: 0, token: "" });
      expect(Number(d.headers.get("retry-after"))).toBeGreaterThan(0);
      // The per-address limiter in front of every route still fails open, as configured.
      expect((await douyin(gw.url, "GET", "/user/", { user_id: user.id })).body).toMatchObject({ status_code: 0, user: { id: user.id } });
    } finally {
      await proxy.close();
    }
  });
});
