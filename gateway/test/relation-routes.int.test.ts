/**
 * The relation routes of both families through the gateway and the REAL
 * relation and user services: every route, its answers and its error cases.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiRelationUser, CursorPage, SeedPage, SeedResult, UserCounts } from "../src/api/api-schemas.js";
import { api, douyin, uniqueName } from "./support/http.js";
import { metricsRegistry } from "@rs/runtime";
import { registrySamples, sampleSum } from "../../test/support/prometheus-text.js";
import { startLiveSuite, type LiveSuite } from "./support/live-suite.js";

let s: LiveSuite;
interface Account {
  id: number;
  token: string;
  name: string;
}
const register = async (label: string): Promise<Account> => {
  const name = uniqueName(label);
  const r = await api<{ userId: number; token: string }>(s.url, "POST", "/user/register", { body: { username: name, password: "secret-pw" } });
  expect(r.status).toBe(201);
  return { id: r.body.userId, token: r.body.token, name };
};
const follow = async (a: Account, b: Account) => {
  const r = await api(s.url, "POST", "/relation/follow", { token: a.token, body: { followUserId: b.id } });
  expect(r.status).toBe(200);
  return r.body;
};
const ids = (users: Array<{ id: number }>) => users.map((u) => u.id);

beforeAll(async () => {
  s = await startLiveSuite();
});
afterAll(async () => {
  await s?.stop();
});

describe("/api writes", () => {
  it("follow and unfollow answer {success, message}; repeats succeed without a change", async () => {
    const [a, b] = [await register("wa"), await register("wb")];
    const first = await follow(a, b);
    expect(SeedResult.parse(first)).toEqual({ success: true, message: "followed", changed: true });
    expect(await follow(a, b)).toEqual({ success: true, message: "already following", changed: false });
    const is = await api(s.url, "GET", "/relation/is_following", { token: a.token, query: { targetUserId: b.id } });
    expect(is.body).toEqual({ following: true });

    const un = await api(s.url, "POST", "/relation/unfollow", { token: a.token, body: { followUserId: b.id } });
    expect(un.body).toEqual({ success: true, message: "unfollowed", changed: true });
    const again = await api(s.url, "POST", "/relation/unfollow", { token: a.token, body: { followUserId: b.id } });
    expect(again.body).toEqual({ success: true, message: "was not following", changed: false });
    expect((await api(s.url, "GET", "/relation/is_following", { token: a.token, query: { targetUserId: b.id } })).body).toEqual({ following: false });
  });

  it("the follow body: followUserId and the caller's own userId, as JSON or as a form", async () => {
    const [a, b, c] = [await register("fa"), await register("fb"), await register("fc")];
    expect((await api(s.url, "POST", "/relation/follow", { token: a.token, body: { userId: a.id, followUserId: b.id } })).body).toMatchObject({
      success: true,
    });
    const form = await api(s.url, "POST", "/relation/follow", {
      token: a.token,
      body: `userId=${a.id}&followUserId=${c.id}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.body).toMatchObject({ success: true, changed: true });
  });

  it("self-follow is 400, an unknown user 404, each with a message and the request id", async () => {
    const a = await register("se");
    const self = await api(s.url, "POST", "/relation/follow", { token: a.token, body: { followUserId: a.id }, headers: { "x-request-id": "self-follow-1" } });
    expect(self.status).toBe(400);
    expect(self.body).toEqual({ error: expect.stringMatching(/themselves/), code: "INVALID_ARGUMENT", requestId: "self-follow-1" });
    expect(self.headers.get("x-request-id")).toBe("self-follow-1");
    const ghost = await api(s.url, "POST", "/relation/follow", { token: a.token, body: { followUserId: 8_999_999_999_999_999 } });
    expect(ghost.status).toBe(404);
    expect(ghost.body).toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("/api reads", () => {
  let a: Account;
  let bs: Account[];
  let t: Account;
  beforeAll(async () => {
    a = await register("ra");
    t = await register("rt");
    bs = [];
    for (let i = 0; i < 5; i++) bs.push(await register(`rb${i}`));
    for (const b of bs) await follow(a, b); // a follows b0..b4, in this order
    for (const b of bs.slice(0, 3)) await follow(b, a); // b0..b2 follow back: friends
    await follow(bs[1]!, t);
    await follow(bs[3]!, t);
  });

  it("is_following (single and batch, order kept) and mutual", async () => {
    const batch = await api(s.url, "POST", "/relation/is_following/batch", { token: a.token, body: { targetUserIds: [bs[4]!.id, t.id, bs[0]!.id, a.id] } });
    expect(batch.body).toEqual({ following: [true, false, true, false] });
    const other = await api(s.url, "POST", "/relation/is_following/batch", { token: a.token, body: { userId: bs[3]!.id, targetUserIds: [t.id, a.id] } });
    expect(other.body).toEqual({ following: [true, false] });
    expect((await api(s.url, "GET", "/relation/mutual", { token: a.token, query: { otherUserId: bs[0]!.id } })).body).toEqual({
      aFollowsB: true,
      bFollowsA: true,
      mutual: true,
    });
    expect((await api(s.url, "GET", "/relation/mutual", { token: a.token, query: { otherUserId: bs[4]!.id } })).body).toEqual({
      aFollowsB: true,
      bFollowsA: false,
      mutual: false,
    });
    expect((await api(s.url, "GET", "/relation/is_following", { token: t.token, query: { userId: bs[1]!.id, targetUserId: t.id } })).body).toEqual({
      following: true,
    });
  });

  it("cursor-paged following: newest first, every item once, profiles hydrated", async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await api(s.url, "GET", "/relation/following", { token: a.token, query: { cursor, limit: 2 } });
      expect(r.status).toBe(200);
      const body = CursorPage.parse(r.body);
      expect(body.totalCount).toBe(5);
      seen.push(...ids(body.users));
      for (const u of body.users) expect(u.name).toBe(bs.find((b) => b.id === u.id)!.name);
      if (body.nextCursor === "") break;
      cursor = body.nextCursor;
    }
    expect(seen).toEqual(ids(bs).reverse());
  });

  it("fans and friends, is_follow relative to the caller", async () => {
    const fans = CursorPage.parse((await api(s.url, "GET", "/relation/fans", { token: a.token })).body);
    expect(ids(fans.users).sort()).toEqual(ids(bs.slice(0, 3)).sort());
    expect(fans.users.every((u) => u.isFollow)).toBe(true); // a follows each of its fans back
    const asSeenByT = CursorPage.parse((await api(s.url, "GET", "/relation/fans", { token: t.token, query: { userId: a.id } })).body);
    expect(asSeenByT.users.every((u) => !u.isFollow)).toBe(true);

    const friends = CursorPage.parse((await api(s.url, "GET", "/relation/friends", { token: a.token, query: { limit: 100 } })).body);
    expect(ids(friends.users).sort()).toEqual(ids(bs.slice(0, 3)).sort());
  });

  it("common_following: the people the caller follows who follow the target", async () => {
    const r = CursorPage.parse((await api(s.url, "GET", "/relation/common_following", { token: a.token, query: { targetUserId: t.id } })).body);
    expect(ids(r.users).sort()).toEqual([bs[1]!.id, bs[3]!.id].sort());
  });

  it("the page routes get_follower / get_fans: page and pageSize over the same list", async () => {
    const pages: number[][] = [];
    for (let page = 1; page <= 4; page++) {
      const r = await api(s.url, "GET", "/relation/get_follower", { token: t.token, query: { userId: a.id, page, pageSize: 2 } });
      expect(r.status).toBe(200);
      const body = SeedPage.parse(r.body);
      expect(body.totalCount).toBe(5);
      for (const u of body.userList) ApiRelationUser.parse(u);
      pages.push(ids(body.userList));
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1, 0]);
    expect(pages.flat()).toEqual(ids(bs).reverse());

    const fans = SeedPage.parse((await api(s.url, "GET", "/relation/get_fans", { token: a.token, query: { userId: t.id } })).body);
    expect(fans.totalCount).toBe(2);
    expect(ids(fans.userList).sort()).toEqual([bs[1]!.id, bs[3]!.id].sort());
    // Without userId: the caller's own list.
    expect(SeedPage.parse((await api(s.url, "GET", "/relation/get_fans", { token: t.token })).body).totalCount).toBe(2);
  });

  it("a page deeper than PAGE_MAX_OFFSET is refused with a pointer to the cursor route", async () => {
    const r = await api(s.url, "GET", "/relation/get_fans", { token: a.token, query: { page: 1_000_000, pageSize: 100 } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/cursor route/);
  });

  it("counts from the count service; a service that is down is 503 with a fixed text", async () => {
    const r = await api(s.url, "GET", `/user/${a.id}/counts`, { token: a.token });
    expect(r.status).toBe(200);
    // Counts arrive through the persister and count.changed, which this suite does not run: a fresh user reads 0/0.
    expect(UserCounts.strict().parse(r.body)).toEqual({ userId: a.id, followingCount: 0, followerCount: 0 });
    const blind = await s.startAnotherGateway({ COUNT_SERVICE_NAME: `count-nowhere-${s.tag}` });
    const down = await api(blind.url, "GET", `/user/${a.id}/counts`, { token: a.token });
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ error: "count service unavailable, try again later", code: "UNAVAILABLE" });
  });
});

describe("/douyin relation routes", () => {
  it("action 1/2, follow/follower/friend lists with app user objects", async () => {
    const [a, b, c] = [await register("da"), await register("db"), await register("dc")];
    const act = (who: Account, to: Account, type: number) =>
      douyin(s.url, "POST", "/relation/action/", { token: who.token, to_user_id: to.id, action_type: type });
    expect((await act(a, b, 1)).body).toEqual({ status_code: 0, status_msg: "ok" });
    expect((await act(a, c, 1)).body).toEqual({ status_code: 0, status_msg: "ok" });
    expect((await act(b, a, 1)).body).toMatchObject({ status_code: 0 });

    const following = await douyin<{ user_list: Array<Record<string, unknown>> }>(s.url, "GET", "/relation/follow/list/", { token: a.token, user_id: a.id });
    expect(following.body).toMatchObject({ status_code: 0, status_msg: "ok" });
    expect(ids(following.body.user_list as Array<{ id: number }>)).toEqual([c.id, b.id]);
    expect(following.body.user_list[0]).toEqual({
      id: c.id,
      name: c.name,
      follow_count: expect.any(Number),
      follower_count: expect.any(Number),
      is_follow: true,
      avatar: "",
      background_image: "",
      signature: "",
      total_favorited: 0,
      work_count: 0,
      favorite_count: 0,
    });

    const followers = await douyin<{ user_list: Array<{ id: number; is_follow: boolean }> }>(s.url, "GET", "/relation/follower/list/", {
      token: c.token,
      user_id: a.id,
    });
    expect(followers.body.user_list.map((u) => [u.id, u.is_follow])).toEqual([[b.id, false]]);

    const friends = await douyin<{ user_list: Array<Record<string, unknown>> }>(s.url, "GET", "/relation/friend/list/", { token: a.token, user_id: a.id });
    expect(friends.body.user_list).toEqual([expect.objectContaining({ id: b.id, name: b.name, is_follow: true, message: "", msgType: 0 })]);

    expect((await act(a, b, 2)).body).toMatchObject({ status_code: 0 });
    const after = await douyin<{ user_list: Array<{ id: number }> }>(s.url, "GET", "/relation/follow/list/", { token: a.token, user_id: a.id });
    expect(ids(after.body.user_list)).toEqual([c.id]);
    expect((await douyin(s.url, "GET", "/relation/friend/list/", { token: a.token, user_id: a.id })).body).toMatchObject({ status_code: 0, user_list: [] });
  });

  it("errors: self-follow 400, unknown user 404, bad action_type 400, all as HTTP 200", async () => {
    const a = await register("de");
    const cases: Array<[Record<string, string | number>, number]> = [
      [{ to_user_id: a.id, action_type: 1 }, 400],
      [{ to_user_id: 8_999_999_999_999_998, action_type: 1 }, 404],
      [{ to_user_id: a.id, action_type: 3 }, 400],
      [{ action_type: 1 }, 400],
    ];
    for (const [params, code] of cases) {
      const r = await douyin(s.url, "POST", "/relation/action/", { token: a.token, ...params });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status_code: code });
      expect(Object.keys(r.body).sort()).toEqual(["status_code", "status_msg"]);
    }
  });
});

describe("list walks are bounded per request", () => {
  const LIST_SIZE = 150;
  let a: Account;
  /** ListFollowing calls the gateways of this process started so far. */
  const listCalls = async () =>
    sampleSum(await registrySamples(metricsRegistry), "grpc_client_started_total", {
      grpc_service: "relation.v1.RelationService",
      grpc_method: "ListFollowing",
    });
  beforeAll(async () => {
    a = await register("deep");
    const targets: Account[] = [];
    for (let i = 0; i < LIST_SIZE; i += 10) targets.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => register(`dt${i + j}`)))));
    for (let i = 0; i < LIST_SIZE; i += 10) await Promise.all(targets.slice(i, i + 10).map((b) => follow(a, b)));
  }, 120_000);

  it("a page past the maximum depth is 400 before any call; the OpenAPI documents say where the bounds are", async () => {
    const before = await listCalls();
    const r = await api(s.url, "GET", "/relation/get_follower", { token: a.token, query: { userId: a.id, page: 11, pageSize: 100 } });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("page: too deep (page*pageSize must be at most 1000); use the cursor route (/api/relation/following)");
    expect(await listCalls()).toBe(before);
    const doc = (await (await fetch(`${s.url}/api/openapi.json`)).json()) as {
      paths: Record<string, { get: { description: string; parameters: Array<{ name: string; description: string }> } }>;
    };
    const op = doc.paths["/api/relation/get_follower"]!.get;
    expect(op.parameters.find((p) => p.name === "page")?.description).toMatch(/page\*pageSize at most 1000, 400 beyond/);
    expect(op.description).toMatch(/504 when the walk takes longer than 3000 ms/);
    const douyinDoc = (await (await fetch(`${s.url}/douyin/openapi.json`)).json()) as { paths: Record<string, { get: { description: string } }> };
    expect(douyinDoc.paths["/douyin/relation/follow/list/"]!.get.description).toMatch(/504 when the walk takes longer than 3000 ms/);
  });

  it("the walk of a deep page has one deadline for all its calls: past it, 504 and no further page is fetched", async () => {
    // Page 2 of 75 needs two ListFollowing calls (100, then 50 to reach items 76..150).
    const before = await listCalls();
    const ok = await api(s.url, "GET", "/relation/get_follower", { token: a.token, query: { userId: a.id, page: 2, pageSize: 75 } });
    expect(ok.status).toBe(200);
    expect(SeedPage.parse(ok.body).userList).toHaveLength(75);
    expect((await listCalls()) - before).toBe(2);

    const hurried = await s.startAnotherGateway({ LIST_WALK_DEADLINE_MS: "1" });
    const start = await listCalls();
    const t0 = Date.now();
    const r = await api(hurried.url, "GET", "/relation/get_follower", { token: a.token, query: { userId: a.id, page: 2, pageSize: 75 } });
    expect(r.status).toBe(504);
    expect(r.body).toMatchObject({ code: "DEADLINE_EXCEEDED", error: "listing took longer than 1 ms; ask for a shallower page or use the cursor route" });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect((await listCalls()) - start).toBeLessThanOrEqual(1);
    // /douyin lists walk the same way, under the same deadline.
    const d = await douyin(hurried.url, "GET", "/relation/follow/list/", { token: a.token, user_id: a.id });
    expect(d.body).toMatchObject({ status_code: 504, user_list: [] });
  });
});
