/**
 * The app API's user routes through the gateway and the REAL user and relation
 * services: the flows an app runs, and the documented keys on every answer,
 * success or failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { douyin, uniqueName, type Answer } from "./support/http.js";
import { startLiveSuite, type LiveSuite } from "./support/live-suite.js";

let s: LiveSuite;
beforeAll(async () => {
  s = await startLiveSuite();
});
afterAll(async () => {
  await s?.stop();
});

const USER_KEYS = [
  "avatar",
  "background_image",
  "favorite_count",
  "follow_count",
  "follower_count",
  "id",
  "is_follow",
  "name",
  "signature",
  "total_favorited",
  "work_count",
];

/** HTTP 200, `status_code` and `status_msg`, and exactly the route's documented keys. */
function expectEnvelope(r: Answer, keys: string[], ok: boolean) {
  expect(r.status).toBe(200);
  expect(Object.keys(r.body).sort()).toEqual(["status_code", "status_msg", ...keys].sort());
  expect(typeof r.body.status_msg).toBe("string");
  if (ok) expect(r.body.status_code).toBe(0);
  else expect(r.body.status_code).not.toBe(0);
  expect(r.headers.get("x-request-id")).toMatch(/^[\w.-]+$/);
}

async function register(name = uniqueName("dy"), password = "secret-pw") {
  const r = await douyin<{ status_code: number; user_id: number; token: string }>(s.url, "POST", "/user/register/", { username: name, password });
  expect(r.body.status_code).toBe(0);
  return { name, password, id: r.body.user_id, token: r.body.token };
}

describe("register -> login -> profile with only the token", () => {
  it.each(["query", "form", "json"] as const)("works with parameters as %s", async (as) => {
    const name = uniqueName(`fl${as}`);
    const reg = await douyin(s.url, "POST", "/user/register/", { username: name, password: "p4ssword" }, as);
    expectEnvelope(reg, ["user_id", "token"], true);
    expect(reg.body.user_id).toEqual(expect.any(Number));
    expect(Number.isSafeInteger(reg.body.user_id)).toBe(true);
    expect(reg.body.token).toEqual(expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/));

    const login = await douyin(s.url, "POST", "/user/login/", { username: name, password: "p4ssword" }, as);
    expectEnvelope(login, ["user_id", "token"], true);
    expect(login.body.user_id).toBe(reg.body.user_id);

    // Only the token: the caller's own profile.
    const me = await douyin(s.url, "GET", "/user/", { token: login.body.token as string });
    expectEnvelope(me, ["user"], true);
    const user = me.body.user as Record<string, unknown>;
    expect(Object.keys(user).sort()).toEqual(USER_KEYS);
    expect(user).toMatchObject({
      id: reg.body.user_id,
      name,
      follow_count: 0,
      follower_count: 0,
      is_follow: false,
      total_favorited: 0,
      work_count: 0,
      favorite_count: 0,
    });
  });

  it("with user_id and a token: that user's profile, is_follow relative to the caller", async () => {
    const [a, b] = [await register(), await register()];
    const before = await douyin(s.url, "GET", "/user/", { user_id: b.id, token: a.token });
    expect(before.body.user).toMatchObject({ id: b.id, name: b.name, is_follow: false });

    const act = await douyin(s.url, "POST", "/relation/action/", { token: a.token, to_user_id: b.id, action_type: 1 });
    expectEnvelope(act, [], true);
    expect((await douyin(s.url, "GET", "/user/", { user_id: b.id, token: a.token })).body.user).toMatchObject({ id: b.id, is_follow: true });
    // Relative to the caller: b does not follow a.
    expect((await douyin(s.url, "GET", "/user/", { user_id: a.id, token: b.token })).body.user).toMatchObject({ id: a.id, is_follow: false });
    // Without a token (/douyin/user/ is public): the profile, is_follow false.
    expect((await douyin(s.url, "GET", "/user/", { user_id: b.id })).body.user).toMatchObject({ id: b.id, is_follow: false });
  });
});

describe("failures keep the documented keys", () => {
  it("duplicate username: status_code 409, user_id and an empty token present", async () => {
    const a = await register();
    const again = await douyin(s.url, "POST", "/user/register/", { username: a.name, password: "another-pw" });
    expectEnvelope(again, ["user_id", "token"], false);
    expect(again.body).toMatchObject({ status_code: 409, user_id: 0, token: "" });
    expect(again.body.status_msg).toMatch(/taken/);
    // The first account is untouched.
    expect((await douyin(s.url, "POST", "/user/login/", { username: a.name, password: a.password })).body).toMatchObject({ status_code: 0, user_id: a.id });
  });

  it("wrong password and unknown username: status_code 401, no token", async () => {
    const a = await register();
    const wrong = await douyin(s.url, "POST", "/user/login/", { username: a.name, password: "not-the-password" });
    expectEnvelope(wrong, ["user_id", "token"], false);
    expect(wrong.body).toMatchObject({ status_code: 401, user_id: 0, token: "" });
    const nobody = await douyin(s.url, "POST", "/user/login/", { username: uniqueName("nobody"), password: "whatever-pw" });
    expect(nobody.body).toMatchObject({ status_code: 401, user_id: 0, token: "" });
    // Same text for both: no telling which usernames exist.
    expect(nobody.body.status_msg).toBe(wrong.body.status_msg);
  });

  it("unknown user id: status_code 404 and user null", async () => {
    const a = await register();
    const r = await douyin(s.url, "GET", "/user/", { user_id: 9_000_000_000_000_001, token: a.token });
    expectEnvelope(r, ["user"], false);
    expect(r.body).toMatchObject({ status_code: 404, user: null });
  });

  it("every route, given garbage, answers its keys with status_code != 0", async () => {
    const cases: Array<["GET" | "POST", string, Record<string, string>, string[]]> = [
      ["POST", "/user/register/", { username: "", password: "x" }, ["user_id", "token"]],
      ["POST", "/user/login/", { username: "x".repeat(40), password: "123456" }, ["user_id", "token"]],
      ["GET", "/user/", {}, ["user"]],
      ["GET", "/user/", { user_id: "abc" }, ["user"]],
      ["GET", "/user/", { user_id: "1", token: "not-a-token" }, ["user"]],
      ["POST", "/relation/action/", { token: "not-a-token", to_user_id: "1", action_type: "1" }, []],
      ["POST", "/relation/action/", { to_user_id: "1", action_type: "1" }, []],
      ["GET", "/relation/follow/list/", { user_id: "1" }, ["user_list"]],
      ["GET", "/relation/follower/list/", { user_id: "1", token: "x.y.z" }, ["user_list"]],
      ["GET", "/relation/friend/list/", { user_id: "-4", token: "x.y.z" }, ["user_list"]],
    ];
    for (const [method, path, params, keys] of cases) {
      const r = await douyin(s.url, method, path, params);
      expectEnvelope(r, keys, false);
      if (keys.includes("user_list")) expect(r.body.user_list).toEqual([]);
    }
  });

  it("a malformed or oversized body still answers in the envelope", async () => {
    const bad = await fetch(new URL("/douyin/user/register/", s.url), { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(bad.status).toBe(200);
    expect(await bad.json()).toMatchObject({ status_code: 400, user_id: 0, token: "" });
    const big = await fetch(new URL("/douyin/user/login/", s.url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `username=${"a".repeat(100_000)}`,
    });
    expect(await big.json()).toMatchObject({ status_code: 413, user_id: 0, token: "" });
  });
});
