/**
 * Nobody acts for another user, and garbage in any parameter of any route gets
 * a 4xx (/douyin: status_code 4xx) and changes nothing. Against the gateway in
 * front of the REAL user and relation services.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, douyin, uniqueName, type Answer } from "./support/http.js";
import { startLiveSuite, type LiveSuite } from "./support/live-suite.js";

let s: LiveSuite;
let me: { id: number; token: string };
let other: { id: number; token: string };
let target: { id: number; token: string };

const register = async () => {
  const r = await api<{ userId: number; token: string }>(s.url, "POST", "/user/register", { body: { username: uniqueName("in"), password: "secret-pw" } });
  expect(r.status).toBe(201);
  return { id: r.body.userId, token: r.body.token };
};

/** What a garbage request could have changed: every edge among the three users, and the lists' sizes. */
async function snapshot() {
  const edges = await api(s.url, "POST", "/relation/is_following/batch", { token: me.token, body: { userId: me.id, targetUserIds: [other.id, target.id] } });
  const edges2 = await api(s.url, "POST", "/relation/is_following/batch", { token: me.token, body: { userId: other.id, targetUserIds: [me.id, target.id] } });
  const fans = await api(s.url, "GET", "/relation/fans", { token: me.token, query: { userId: target.id } });
  const following = await api(s.url, "GET", "/relation/following", { token: me.token, query: { userId: me.id } });
  return { edges: edges.body, edges2: edges2.body, fans: fans.body.totalCount, following: following.body.totalCount };
}

beforeAll(async () => {
  s = await startLiveSuite();
  [me, other, target] = [await register(), await register(), await register()];
  // One edge exists, so an unfollow for someone else would have something to remove.
  expect((await api(s.url, "POST", "/relation/follow", { token: other.token, body: { followUserId: target.id } })).status).toBe(200);
});
afterAll(async () => {
  await s?.stop();
});

describe("a write for another user is refused", () => {
  it("/api follow and unfollow with someone else's userId: 403, nothing changes", async () => {
    const before = await snapshot();
    const f = await api(s.url, "POST", "/relation/follow", { token: me.token, body: { userId: other.id, followUserId: target.id } });
    expect(f.status).toBe(403);
    expect(f.body).toMatchObject({ code: "PERMISSION_DENIED", error: "userId does not match the signed-in user" });
    const u = await api(s.url, "POST", "/relation/unfollow", { token: me.token, body: { userId: other.id, followUserId: target.id } });
    expect(u.status).toBe(403);
    expect(await snapshot()).toEqual(before);
    expect(before.edges2).toEqual({ following: [false, true] }); // other -> target still there
  });

  it("/douyin action with someone else's user_id: status_code 403, nothing changes", async () => {
    const before = await snapshot();
    for (const action_type of [1, 2]) {
      const r = await douyin(s.url, "POST", "/relation/action/", { token: me.token, user_id: other.id, to_user_id: target.id, action_type });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status_code: 403, status_msg: "userId does not match the signed-in user" });
    }
    expect(await snapshot()).toEqual(before);
  });

  it("with the caller's own id it goes through (the check is on the mismatch only)", async () => {
    const r = await douyin(s.url, "POST", "/relation/action/", { token: me.token, user_id: me.id, to_user_id: target.id, action_type: 1 });
    expect(r.body).toMatchObject({ status_code: 0 });
    expect((await api(s.url, "POST", "/relation/unfollow", { token: me.token, body: { userId: me.id, followUserId: target.id } })).body).toMatchObject({
      changed: true,
    });
  });
});

/** Values no id, page, limit or flag may accept. */
const GARBAGE = [
  "",
  " ",
  "abc",
  "-1",
  "0",
  "1.5",
  "1e3",
  "0x1f",
  "9007199254740993",
  "12345678901234567890",
  "null",
  "undefined",
  "[1]",
  "{}",
  "' OR 1=1 --",
  "<script>",
  "%00",
  "x".repeat(300),
];

function expect4xx(r: Answer, what: string) {
  expect(r.status, `${what} -> ${r.status} ${JSON.stringify(r.body)}`).toBeGreaterThanOrEqual(400);
  expect(r.status, what).toBeLessThan(500);
  expect(r.body.code, what).toBeTruthy();
}

function expectDouyin4xx(r: Answer, what: string) {
  expect(r.status, what).toBe(200);
  const code = r.body.status_code as number;
  expect(code >= 400 && code < 500, `${what} -> ${JSON.stringify(r.body)}`).toBe(true);
}

describe("garbage in any parameter", () => {
  it("/api query parameters and path parameters", async () => {
    const before = await snapshot();
    const queries: Array<[string, string[], Record<string, string | number>]> = [
      ["/relation/is_following", ["userId", "targetUserId"], { targetUserId: target.id }],
      ["/relation/mutual", ["userId", "otherUserId"], { otherUserId: target.id }],
      ["/relation/following", ["userId", "cursor", "limit"], {}],
      ["/relation/fans", ["userId", "cursor", "limit"], {}],
      ["/relation/friends", ["userId", "cursor", "limit"], {}],
      ["/relation/common_following", ["targetUserId", "cursor", "limit"], { targetUserId: target.id }],
      ["/relation/get_follower", ["userId", "page", "pageSize"], {}],
      ["/relation/get_fans", ["userId", "page", "pageSize"], {}],
    ];
    for (const [path, params, valid] of queries) {
      for (const param of params) {
        for (const bad of GARBAGE) {
          // A cursor is any base64url text (the service decides): skip the values that are well-formed cursors.
          if (param === "cursor" && /^[A-Za-z0-9_-]{1,128}$/.test(bad)) continue;
          if (param === "cursor" && bad === "") continue; // empty cursor = first page
          expect4xx(await api(s.url, "GET", path, { token: me.token, query: { ...valid, [param]: bad } }), `${path} ${param}=${bad.slice(0, 20)}`);
        }
      }
      expect4xx(await api(s.url, "GET", path, { token: me.token, query: { ...valid, unexpected: "1" } }), `${path} unknown parameter`);
    }
    // Well-formed cursors the service never issued.
    for (const cursor of ["abc", "AAAAAAAAAAAAAAAAAAAAAAA", "x".repeat(128)]) {
      expect4xx(await api(s.url, "GET", "/relation/following", { token: me.token, query: { cursor } }), `cursor=${cursor.slice(0, 10)}`);
    }
    for (const bad of GARBAGE.filter((g) => g !== "" && !g.includes("/"))) {
      expect4xx(await api(s.url, "GET", `/user/${encodeURIComponent(bad)}`, { token: me.token }), `/user/${bad.slice(0, 20)}`);
      expect4xx(await api(s.url, "GET", `/user/${encodeURIComponent(bad)}/counts`, { token: me.token }), `/user/${bad.slice(0, 20)}/counts`);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("/api bodies: bad values, wrong types, unknown fields, bad JSON, too large", async () => {
    const before = await snapshot();
    const bodies: Array<[string, Record<string, unknown>, string[]]> = [
      ["/relation/follow", { followUserId: target.id }, ["followUserId", "userId", "source"]],
      ["/relation/unfollow", { followUserId: target.id }, ["followUserId", "userId"]],
      ["/relation/is_following/batch", { targetUserIds: [target.id] }, ["targetUserIds", "userId"]],
      ["/user/batch", { userIds: [target.id] }, ["userIds"]],
      ["/user/register", { username: uniqueName("g"), password: "secret-pw" }, ["username", "password"]],
      ["/user/login", { username: uniqueName("g"), password: "secret-pw" }, ["username", "password"]],
    ];
    const wrongTypes: unknown[] = [null, true, {}, [], [[1]], -1, 0, 1.5, "x".repeat(300), "", Number.MAX_SAFE_INTEGER + 2];
    for (const [path, valid, fields] of bodies) {
      for (const field of fields) {
        for (const bad of [...GARBAGE, ...wrongTypes]) {
          // Strings are fine for username/password as long as the length is: skip those that are valid ones.
          if (
            (field === "username" || field === "password") &&
            typeof bad === "string" &&
            [...bad].length >= (field === "username" ? 1 : 6) &&
            [...bad].length <= 32 &&
            // eslint-disable-next-line no-control-regex
            !/[\u0000-\u001f]/.test(bad)
          )
            continue;
          if (field === "source" && (bad === "0" || bad === 0)) continue; // 0 is a valid source
          const value = field.endsWith("Ids") && !Array.isArray(bad) ? [bad] : bad;
          expect4xx(
            await api(s.url, "POST", path, { token: me.token, body: { ...valid, [field]: value } }),
            `${path} ${field}=${JSON.stringify(value).slice(0, 30)}`,
          );
        }
      }
      expect4xx(await api(s.url, "POST", path, { token: me.token, body: { ...valid, extra: 1 } }), `${path} unknown field`);
      for (const raw of ["{", "[]", '"str"', "1", "null", `{"followUserId": ${target.id},}`]) {
        expect4xx(await api(s.url, "POST", path, { token: me.token, body: raw }), `${path} body ${raw}`);
      }
    }
    expect4xx(await api(s.url, "POST", "/relation/is_following/batch", { token: me.token, body: { targetUserIds: [] } }), "empty batch");
    expect4xx(
      await api(s.url, "POST", "/relation/is_following/batch", { token: me.token, body: { targetUserIds: Array(1001).fill(target.id) } }),
      "batch of 1001",
    );
    expect4xx(await api(s.url, "POST", "/user/batch", { token: me.token, body: { userIds: Array(101).fill(target.id) } }), "users batch of 101");
    const big = await api(s.url, "POST", "/relation/follow", { token: me.token, body: { followUserId: target.id, pad: "x".repeat(200_000) } });
    expect(big.status).toBe(413);
    expect(await snapshot()).toEqual(before);
  });

  it("/douyin parameters: every field of every route, as query and as form", async () => {
    const before = await snapshot();
    const routes: Array<["GET" | "POST", string, Record<string, string | number>, string[]]> = [
      ["POST", "/relation/action/", { token: me.token, to_user_id: target.id, action_type: 1 }, ["to_user_id", "action_type", "user_id"]],
      ["GET", "/relation/follow/list/", { token: me.token, user_id: me.id }, ["user_id"]],
      ["GET", "/relation/follower/list/", { token: me.token, user_id: me.id }, ["user_id"]],
      ["GET", "/relation/friend/list/", { token: me.token, user_id: me.id }, ["user_id"]],
      ["GET", "/user/", { token: me.token, user_id: me.id }, ["user_id"]],
      ["POST", "/user/register/", { username: uniqueName("dg"), password: "secret-pw" }, ["username", "password"]],
      ["POST", "/user/login/", { username: uniqueName("dg"), password: "secret-pw" }, ["username", "password"]],
    ];
    for (const [method, path, valid, fields] of routes) {
      for (const field of fields) {
        for (const bad of GARBAGE) {
          if ((field === "username" || field === "password") && [...bad].length >= (field === "username" ? 1 : 6) && [...bad].length <= 32) continue;
          for (const as of ["query", "form"] as const) {
            if (method === "GET" && as === "form") continue;
            expectDouyin4xx(await douyin(s.url, method, path, { ...valid, [field]: bad }, as), `${path} ${field}=${bad.slice(0, 20)} (${as})`);
          }
        }
      }
    }
    // The same parameter twice with different values is refused, not guessed.
    const twice = await fetch(`${s.url}/douyin/relation/action/?token=${me.token}&to_user_id=${target.id}&action_type=1`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `to_user_id=${other.id}`,
    });
    expectDouyin4xx({ status: twice.status, headers: twice.headers, body: (await twice.json()) as Record<string, unknown> }, "to_user_id twice");
    expect(await snapshot()).toEqual(before);
  });
});
