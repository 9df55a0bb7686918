/**
 * The /api user routes through the gateway and the REAL user service; answers
 * are checked against the same zod schemas the OpenAPI document is made from.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiUser, ApiUserWithFollow, Credentials, ErrorBody } from "../src/api/api-schemas.js";
import { metricsRegistry } from "@rs/runtime";
import { registrySamples, sampleSum } from "../../test/support/prometheus-text.js";
import { api, uniqueName } from "./support/http.js";
import { startLiveSuite, type LiveSuite } from "./support/live-suite.js";

let s: LiveSuite;
beforeAll(async () => {
  s = await startLiveSuite();
});
afterAll(async () => {
  await s?.stop();
});

const registerBody = (name = uniqueName("api")) => ({ username: name, password: "secret-pw" });

describe("/api/user", () => {
  it("register (201) -> login -> me", async () => {
    const body = registerBody();
    const reg = await api(s.url, "POST", "/user/register", { body });
    expect(reg.status).toBe(201);
    const creds = Credentials.parse(reg.body);
    const login = await api(s.url, "POST", "/user/login", { body });
    expect(login.status).toBe(200);
    expect(Credentials.parse(login.body).userId).toBe(creds.userId);
    const me = await api(s.url, "GET", "/user/me", { token: login.body.token as string });
    expect(me.status).toBe(200);
    expect(ApiUser.strict().parse(me.body)).toMatchObject({ id: creds.userId, name: body.username, followCount: 0, followerCount: 0 });
  });

  it("duplicate username 409, wrong password 401, with the error body", async () => {
    const body = registerBody();
    expect((await api(s.url, "POST", "/user/register", { body })).status).toBe(201);
    const dup = await api(s.url, "POST", "/user/register", { body: { ...body, password: "other-pw" } });
    expect(dup.status).toBe(409);
    expect(ErrorBody.strict().parse(dup.body)).toMatchObject({ code: "ALREADY_EXISTS" });
    const wrong = await api(s.url, "POST", "/user/login", { body: { ...body, password: "not-it-at-all" } });
    expect(wrong.status).toBe(401);
    expect(ErrorBody.strict().parse(wrong.body).code).toBe("UNAUTHENTICATED");
  });

  it("a user by id, with isFollow; an unknown id is 404", async () => {
    const [a, b] = await Promise.all([
      api(s.url, "POST", "/user/register", { body: registerBody() }),
      api(s.url, "POST", "/user/register", { body: registerBody() }),
    ]);
    const [ca, cb] = [Credentials.parse(a.body), Credentials.parse(b.body)];
    const before = ApiUserWithFollow.strict().parse((await api(s.url, "GET", `/user/${cb.userId}`, { token: ca.token })).body);
    expect(before).toMatchObject({ id: cb.userId, isFollow: false });
    await api(s.url, "POST", "/relation/follow", { token: ca.token, body: { followUserId: cb.userId } });
    expect((await api(s.url, "GET", `/user/${cb.userId}`, { token: ca.token })).body).toMatchObject({ isFollow: true });
    expect((await api(s.url, "GET", `/user/${ca.userId}`, { token: ca.token })).body).toMatchObject({ id: ca.userId, isFollow: false });
    const ghost = await api(s.url, "GET", "/user/8999999999999997", { token: ca.token });
    expect(ghost.status).toBe(404);
    expect(ghost.body).toMatchObject({ code: "NOT_FOUND" });
  });

  it("batch: order kept, unknown ids listed apart, at most 100", async () => {
    const users = [];
    for (let i = 0; i < 3; i++) users.push(Credentials.parse((await api(s.url, "POST", "/user/register", { body: registerBody() })).body));
    const asked = [users[2]!.userId, 8_999_999_999_999_996, users[0]!.userId, users[1]!.userId];
    const r = await api(s.url, "POST", "/user/batch", { token: users[0]!.token, body: { userIds: asked } });
    expect(r.status).toBe(200);
    const body = z
      .object({ users: z.array(ApiUser.strict()), missingUserIds: z.array(z.number()) })
      .strict()
      .parse(r.body);
    expect(body.users.map((u) => u.id)).toEqual([users[2]!.userId, users[0]!.userId, users[1]!.userId]);
    expect(body.missingUserIds).toEqual([8_999_999_999_999_996]);
  });

  it("logout revokes exactly that token", async () => {
    const body = registerBody();
    const first = Credentials.parse((await api(s.url, "POST", "/user/register", { body })).body);
    const second = Credentials.parse((await api(s.url, "POST", "/user/login", { body })).body);
    expect((await api(s.url, "POST", "/user/logout", { token: first.token })).body).toEqual({ success: true });
    expect((await api(s.url, "GET", "/user/me", { token: first.token })).status).toBe(401);
    expect((await api(s.url, "GET", "/user/me", { token: second.token })).status).toBe(200);
  });

  it("many /user/me at once: each caller gets their own profile, from fewer user-service calls than requests", async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => api(s.url, "POST", "/user/register", { body: registerBody() })));
    const creds = users.map((r) => Credentials.parse(r.body));
    const calls = async () =>
      sampleSum(await registrySamples(metricsRegistry), "grpc_server_handled_total", { grpc_service: "user.v1.UserService", grpc_method: "GetUser" }) +
      sampleSum(await registrySamples(metricsRegistry), "grpc_server_handled_total", { grpc_service: "user.v1.UserService", grpc_method: "BatchGetUsers" });
    const before = await calls();
    const answers = await Promise.all(creds.map((c) => api(s.url, "GET", "/user/me", { token: c.token })));
    const made = (await calls()) - before;
    for (const [i, a] of answers.entries()) expect(ApiUser.strict().parse(a.body)).toMatchObject({ id: creds[i]!.userId });
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThan(creds.length);
    // an unknown user still reads as 404 through the shared call
    const ghost = await api(s.url, "GET", "/user/8999999999999995", { token: creds[0]!.token });
    expect(ghost.status).toBe(404);
    expect(ErrorBody.strict().parse(ghost.body)).toMatchObject({ code: "NOT_FOUND", error: "user 8999999999999995 not found" });
  });
});
