/**
 * Every relation.v1 RPC against a real instance (real Redis, MariaDB shards,
 * Kafka and the real user service), including each error case.
 */
import { credentials, Client, Metadata, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { relationV1 } from "@rs/idl";
import { metricsRegistry } from "@rs/runtime";
import { encodeCursor } from "../src/index.js";
import { codeOf, createWorld, errorOf, seedEdge, type RelationInstance, type World } from "./relation-harness.js";
import { registrySamples, sampleSum } from "../../../test/support/prometheus-text.js";

const CAP = 5;
let w: World;
let svc: RelationInstance;
let c: RelationInstance["client"];
/** Registered users: u[0] is the main actor. */
let u: number[];

beforeAll(async () => {
  w = await createWorld("rpc");
  svc = await w.relation({ FOLLOWING_CAP: String(CAP) });
  c = svc.client;
  u = await w.registerUsers(12);
});
afterAll(() => w?.cleanup());

/** How many calls of `method` ("user.v1.UserService/BatchGetUsers") the servers of this process have answered. */
async function serverCalls(method: string): Promise<number> {
  const [grpc_service = "", grpc_method = ""] = method.split("/");
  return sampleSum(await registrySamples(metricsRegistry), "grpc_server_handled_total", { grpc_service, grpc_method });
}

/** A user id that no user has (ids are 53-bit snowflakes; this one is tiny). */
const NOBODY = 7;

describe("Follow / Unfollow", () => {
  it("follows, answers changed=false when already in place, and publishes exactly one event", async () => {
    const [a, b] = [u[0]!, u[1]!];
    expect(await c.follow({ fromUserId: a, toUserId: b, source: 3 })).toEqual({ changed: true });
    expect(await c.follow({ fromUserId: a, toUserId: b, source: 3 })).toEqual({ changed: false });
    expect(await c.isFollowing({ fromUserId: a, toUserId: b })).toEqual({ following: true });
    expect(await c.unfollow({ fromUserId: a, toUserId: b })).toEqual({ changed: true });
    expect(await c.unfollow({ fromUserId: a, toUserId: b })).toEqual({ changed: false });
    expect(await c.isFollowing({ fromUserId: a, toUserId: b })).toEqual({ following: false });
    const events = (await w.readEvents()).filter((e) => e.fromUserId === a && e.toUserId === b);
    expect(events.map((e) => e.action)).toEqual([relationV1.RelationEvent_Action.ACTION_FOLLOW, relationV1.RelationEvent_Action.ACTION_UNFOLLOW]);
    expect(events[0]).toMatchObject({ source: 3 });
    expect(events[1]!.version).toBeGreaterThan(events[0]!.version);
    expect(events[1]!.source).toBe(3); // an unfollow carries the edge's source
  });

  it("refuses a self-follow and a self-unfollow with INVALID_ARGUMENT", async () => {
    expect(await codeOf(c.follow({ fromUserId: u[0]!, toUserId: u[0]!, source: 0 }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(c.unfollow({ fromUserId: u[0]!, toUserId: u[0]! }))).toBe(status.INVALID_ARGUMENT);
  });

  it("refuses a follow of an unknown user with NOT_FOUND and changes nothing", async () => {
    const e = await errorOf(c.follow({ fromUserId: u[0]!, toUserId: NOBODY, source: 0 }));
    expect(e.code).toBe(status.NOT_FOUND);
    expect(e.details).toContain(String(NOBODY));
    expect(await c.isFollowing({ fromUserId: u[0]!, toUserId: NOBODY })).toEqual({ following: false });
    // an unfollow of an unknown user is simply an unfollow of nothing
    expect(await c.unfollow({ fromUserId: u[0]!, toUserId: NOBODY })).toEqual({ changed: false });
  });

  it("refuses a follow over the cap with FAILED_PRECONDITION and a clear message; at the cap, existing follows stay idempotent", async () => {
    const a = u[11]!;
    for (const b of u.slice(0, CAP)) expect(await c.follow({ fromUserId: a, toUserId: b, source: 0 })).toEqual({ changed: true });
    const e = await errorOf(c.follow({ fromUserId: a, toUserId: u[CAP]!, source: 0 }));
    expect(e.code).toBe(status.FAILED_PRECONDITION);
    expect(e.details).toMatch(/at most 5 users/);
    expect(await c.follow({ fromUserId: a, toUserId: u[0]!, source: 0 })).toEqual({ changed: false });
    expect(await c.isFollowing({ fromUserId: a, toUserId: u[CAP]! })).toEqual({ following: false });
    await c.unfollow({ fromUserId: a, toUserId: u[0]! });
    expect(await c.follow({ fromUserId: a, toUserId: u[CAP]!, source: 0 })).toEqual({ changed: true });
  });

  it.each([
    ["from_user_id 0", { fromUserId: 0, toUserId: 5, source: 0 }],
    ["negative to_user_id", { fromUserId: 5, toUserId: -3, source: 0 }],
  ])("refuses %s with INVALID_ARGUMENT", async (_name, req) => {
    expect(await codeOf(c.follow(req))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(c.unfollow(req))).toBe(status.INVALID_ARGUMENT);
  });
});

describe("IsFollowing / BatchIsFollowing / IsMutual", () => {
  it("answers a batch in order, with repeats and unknown ids", async () => {
    const a = u[2]!;
    await c.follow({ fromUserId: a, toUserId: u[3]!, source: 0 });
    await c.follow({ fromUserId: a, toUserId: u[5]!, source: 0 });
    const r = await c.batchIsFollowing({ fromUserId: a, toUserIds: [u[3]!, u[4]!, u[5]!, NOBODY, u[3]!] });
    expect(r.following).toEqual([true, false, true, false, true]);
    expect(await c.batchIsFollowing({ fromUserId: a, toUserIds: [] })).toEqual({ following: [] });
  });

  it("takes 1000 targets and refuses 1001 or a bad id with INVALID_ARGUMENT", async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect((await c.batchIsFollowing({ fromUserId: u[2]!, toUserIds: ids })).following).toHaveLength(1000);
    expect(await codeOf(c.batchIsFollowing({ fromUserId: u[2]!, toUserIds: [...ids, 1001] }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(c.batchIsFollowing({ fromUserId: u[2]!, toUserIds: [1, 0] }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(c.batchIsFollowing({ fromUserId: 0, toUserIds: [1] }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(c.isFollowing({ fromUserId: 1, toUserId: 0 }))).toBe(status.INVALID_ARGUMENT);
  });

  it("reports both directions and mutuality", async () => {
    const [a, b] = [u[6]!, u[7]!];
    expect(await c.isMutual({ userA: a, userB: b })).toEqual({ aFollowsB: false, bFollowsA: false, mutual: false });
    await c.follow({ fromUserId: a, toUserId: b, source: 0 });
    expect(await c.isMutual({ userA: a, userB: b })).toEqual({ aFollowsB: true, bFollowsA: false, mutual: false });
    expect(await c.isMutual({ userA: b, userB: a })).toEqual({ aFollowsB: false, bFollowsA: true, mutual: false });
    await c.follow({ fromUserId: b, toUserId: a, source: 0 });
    expect(await c.isMutual({ userA: a, userB: b })).toEqual({ aFollowsB: true, bFollowsA: true, mutual: true });
    expect(await codeOf(c.isMutual({ userA: a, userB: -1 }))).toBe(status.INVALID_ARGUMENT);
  });

  it("reads follows persisted in the shard when the cache is cold", async () => {
    const [a, b] = [u[8]!, u[9]!];
    await seedEdge(w, a, b, Date.now() - 60_000);
    expect(await c.isFollowing({ fromUserId: a, toUserId: b })).toEqual({ following: true });
    // and a follow of it is then a no-op
    expect(await c.follow({ fromUserId: a, toUserId: b, source: 0 })).toEqual({ changed: false });
  });
});

describe("lists", () => {
  let star: number;
  let fans: number[];
  beforeAll(async () => {
    // u[10] is followed by u[0..4] (in that order) and follows u[0], u[1] back
    star = u[10]!;
    fans = u.slice(0, 5);
    for (const f of fans) {
      await c.unfollow({ fromUserId: f, toUserId: star });
      await c.follow({ fromUserId: f, toUserId: star, source: 0 });
    }
    await c.follow({ fromUserId: star, toUserId: u[0]!, source: 0 });
    await c.follow({ fromUserId: star, toUserId: u[1]!, source: 0 });
  });

  it("ListFans: newest first, hydrated profiles, is_follow from the viewer, total, and a cursor that pages to the end", async () => {
    const first = await c.listFans({ userId: star, cursor: "", limit: 2, viewerId: star });
    expect(first.totalCount).toBe(5);
    expect(first.users.map((x) => x.id)).toEqual([fans[4], fans[3]]);
    expect(first.users[0]!.name).toMatch(/^u/);
    expect(first.users.map((x) => x.isFollow)).toEqual([false, false]);
    expect(first.users[0]!.followedAtMs).toBeGreaterThan(0);
    const second = await c.listFans({ userId: star, cursor: first.nextCursor, limit: 2, viewerId: star });
    expect(second.users.map((x) => x.id)).toEqual([fans[2], fans[1]]);
    expect(second.users.map((x) => x.isFollow)).toEqual([false, true]);
    const third = await c.listFans({ userId: star, cursor: second.nextCursor, limit: 2, viewerId: 0 });
    expect(third.users.map((x) => x.id)).toEqual([fans[0]]);
    expect(third.users[0]!.isFollow).toBe(false); // no viewer
    expect(third.nextCursor).toBe("");
  });

  it("ListFollowing: newest first; the owner as viewer sees is_follow everywhere", async () => {
    const r = await c.listFollowing({ userId: star, cursor: "", limit: 10, viewerId: star });
    expect(r.users.map((x) => x.id)).toEqual([u[1], u[0]]);
    expect(r.users.every((x) => x.isFollow)).toBe(true);
    expect(r.totalCount).toBe(2);
    expect(r.nextCursor).toBe("");
    const other = await c.listFollowing({ userId: star, cursor: "", limit: 10, viewerId: u[3]! });
    // u[3] follows star only, not u[0] or u[1]
    expect(other.users.map((x) => x.isFollow)).toEqual([false, false]);
  });

  it("ListFriends: mutual follows only", async () => {
    const r = await c.listFriends({ userId: star, cursor: "", limit: 10, viewerId: 0 });
    expect(r.users.map((x) => x.id)).toEqual([u[1], u[0]]);
    expect(r.totalCount).toBe(2);
    const page1 = await c.listFriends({ userId: star, cursor: "", limit: 1, viewerId: star });
    expect(page1.users.map((x) => x.id)).toEqual([u[1]]);
    expect(page1.users[0]!.isFollow).toBe(true);
    const page2 = await c.listFriends({ userId: star, cursor: page1.nextCursor, limit: 1, viewerId: star });
    expect(page2.users.map((x) => x.id)).toEqual([u[0]]);
    expect(page2.nextCursor).toBe("");
  });

  it("ListCommonFollowing: the viewer's follows who follow the target", async () => {
    // viewer u[9] follows u[0], u[1], u[2]; of those, u[0] and u[1] follow star (u[2] does too)
    const viewer = u[9]!;
    for (const x of [u[0]!, u[1]!, u[6]!]) await c.follow({ fromUserId: viewer, toUserId: x, source: 0 });
    const r = await c.listCommonFollowing({ viewerId: viewer, targetId: star, cursor: "", limit: 10 });
    expect(r.users.map((x) => x.id)).toEqual([u[1], u[0]]);
    expect(r.users.every((x) => x.isFollow)).toBe(true);
    expect(r.totalCount).toBe(2);
    const p1 = await c.listCommonFollowing({ viewerId: viewer, targetId: star, cursor: "", limit: 1 });
    const p2 = await c.listCommonFollowing({ viewerId: viewer, targetId: star, cursor: p1.nextCursor, limit: 1 });
    expect([...p1.users, ...p2.users].map((x) => x.id)).toEqual([u[1], u[0]]);
    expect(p2.nextCursor).toBe("");
  });

  it("hydrates a page with ONE BatchGetUsers call", async () => {
    const before = await serverCalls("user.v1.UserService/BatchGetUsers");
    const r = await c.listFans({ userId: star, cursor: "", limit: 5, viewerId: u[3]! });
    expect(r.users).toHaveLength(5);
    expect(r.users.every((x) => x.name.length > 0)).toBe(true);
    expect((await serverCalls("user.v1.UserService/BatchGetUsers")) - before).toBe(1);
  });

  it("pages asked for at the same time share BatchGetUsers calls, and each is hydrated with its own users", async () => {
    // hot profiles off: every page needs the user service
    const plain = await w.relation({ PROFILE_HOT_CACHE_SIZE: "0" });
    try {
      const list = (userId: number) => plain.client.listFollowing({ userId, cursor: "", limit: 10, viewerId: 0 });
      const owners = [star, ...u.slice(0, 5), u[9]!];
      const alone = [];
      for (const x of owners) alone.push(await list(x));
      const before = await serverCalls("user.v1.UserService/BatchGetUsers");
      const pages = await Promise.all(owners.map(list));
      const calls = (await serverCalls("user.v1.UserService/BatchGetUsers")) - before;
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(calls).toBeLessThan(pages.filter((p) => p.users.length > 0).length);
      for (const [i, page] of pages.entries()) {
        expect(
          page.users.map((x) => [x.id, x.name]),
          `page of ${owners[i]}`,
        ).toEqual(alone[i]!.users.map((x) => [x.id, x.name]));
        for (const user of page.users) expect(user.name).toMatch(/^u/);
      }
      expect(pages[0]!.users.map((x) => x.id)).toEqual([u[1], u[0]]);
    } finally {
      await plain.stop();
    }
  });

  it("decides follow-backs of users whose cache is cold from the fans shard with their pending transitions laid over", async () => {
    const target = u[4]!;
    const [viewer, f1, f2, f3] = [9_300_000_001, 9_300_000_002, 9_300_000_003, 9_300_000_004];
    const t = Date.now() - 10_000;
    await seedEdge(w, viewer, f1, t - 3_000);
    await seedEdge(w, viewer, f2, t - 2_000);
    await seedEdge(w, viewer, f3, t - 1_000);
    await seedEdge(w, f1, target, t - 500); // persisted follow
    await c.follow({ fromUserId: f2, toUserId: target, source: 0 }); // pending follow, not persisted
    await seedEdge(w, f3, target, t - 400);
    await c.unfollow({ fromUserId: f3, toUserId: target }); // pending unfollow, newer than its row
    const { cache } = svc.internals;
    await w.admin.del(...[f1, f2, f3].map((f) => cache.keys.following(f)));
    const r = await c.listCommonFollowing({ viewerId: viewer, targetId: target, cursor: "", limit: 10 });
    expect(r.users.map((x) => x.id)).toEqual([f2, f1]);
    expect(r.totalCount).toBe(2);
  });

  it("an empty list is an empty page", async () => {
    expect(await c.listFollowing({ userId: NOBODY, cursor: "", limit: 5, viewerId: 0 })).toEqual({ users: [], nextCursor: "", totalCount: 0 });
    expect(await c.listFans({ userId: NOBODY, cursor: "", limit: 5, viewerId: 0 })).toEqual({ users: [], nextCursor: "", totalCount: 0 });
    expect(await c.listFriends({ userId: NOBODY, cursor: "", limit: 5, viewerId: 0 })).toEqual({ users: [], nextCursor: "", totalCount: 0 });
  });

  const bad = [
    ["user_id 0", { userId: 0, cursor: "", limit: 10, viewerId: 0 }],
    ["negative viewer", { userId: 1, cursor: "", limit: 10, viewerId: -1 }],
    ["limit 0", { userId: 1, cursor: "", limit: 0, viewerId: 0 }],
    ["limit 101", { userId: 1, cursor: "", limit: 101, viewerId: 0 }],
    ["garbage cursor", { userId: 1, cursor: "not-a-cursor!", limit: 10, viewerId: 0 }],
    ["non-canonical cursor", { userId: 1, cursor: `${encodeCursor({ timeMs: 5, id: 5 })}A`, limit: 10, viewerId: 0 }],
  ] as const;

  it.each(bad)("every list refuses %s with INVALID_ARGUMENT", async (_name, req) => {
    expect(await codeOf(c.listFollowing(req))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(c.listFans(req))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(c.listFriends(req))).toBe(status.INVALID_ARGUMENT);
    // the same paging fields of ListCommonFollowing (whose viewer is required)
    if (req.viewerId === 0)
      expect(await codeOf(c.listCommonFollowing({ viewerId: req.userId, targetId: 1, cursor: req.cursor, limit: req.limit }))).toBe(status.INVALID_ARGUMENT);
  });

  it("ListCommonFollowing refuses a bad target or viewer", async () => {
    expect(await codeOf(c.listCommonFollowing({ viewerId: 1, targetId: 0, cursor: "", limit: 1 }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(c.listCommonFollowing({ viewerId: 0, targetId: 1, cursor: "", limit: 1 }))).toBe(status.INVALID_ARGUMENT);
  });
});

describe("dependencies away", () => {
  it("answers UNAVAILABLE when the user service cannot be reached, for a follow and for a hydrated list", async () => {
    const lonely = await w.relation({ USER_SERVICE_NAME: `nobody-${w.tag}`, USER_CALL_DEADLINE_MS: "500" });
    try {
      expect(await codeOf(lonely.client.follow({ fromUserId: u[0]!, toUserId: u[5]!, source: 0 }))).toBe(status.UNAVAILABLE);
      expect(await lonely.client.isFollowing({ fromUserId: u[0]!, toUserId: u[5]! })).toEqual({ following: false });
      expect(await codeOf(lonely.client.listFollowing({ userId: u[2]!, cursor: "", limit: 5, viewerId: 0 }))).toBe(status.UNAVAILABLE);
    } finally {
      await lonely.stop();
    }
  });
});

describe("undecodable requests", () => {
  it("an id beyond 2^53 is INVALID_ARGUMENT, not INTERNAL", async () => {
    // field 1 (from_user_id), varint 2^53 + 1; field 2 (to_user_id) = 1
    const big = 2n ** 53n + 1n;
    const varint: number[] = [];
    for (let v = big; ;) {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v === 0n) {
        varint.push(byte);
        break;
      }
      varint.push(byte | 0x80);
    }
    const bytes = Buffer.from([0x08, ...varint, 0x10, 0x01]);
    const raw = new Client(svc.address, credentials.createInsecure());
    const code = await new Promise<number>((resolve) =>
      raw.makeUnaryRequest(
        "/relation.v1.RelationService/Follow",
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        new Metadata(),
        (err) => resolve(err?.code ?? status.OK),
      ),
    );
    raw.close();
    expect(code).toBe(status.INVALID_ARGUMENT);
  });
});
