/**
 * The user service end to end: started in-process on port 0 against real
 * MariaDB shards, Redis and etcd, and called through the suite's gRPC client
 * (found through etcd under a name of its own).
 */
import { status } from "@grpc/grpc-js";
import { hashPassword } from "@rs/auth";
import { createServiceClient, type ServiceClient } from "@rs/grpc";
import { userV1 } from "@rs/idl";
import { redisFromUrl } from "@rs/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningUserService } from "../src/user.process.js";
import { codeOf, counterValue, logger, shardQueryCount, uniqueName, userFixture, waitFor, type UserFixture } from "./user-fixture.js";

/** Enough work per bcrypt check (~10 ms here) that a skipped check would stand out from noise. */
const TIMING_BCRYPT_COST = "8";
const TIMING_SAMPLES = 9;

let fx: UserFixture;
let svc: RunningUserService;
let client: ServiceClient<userV1.UserServiceClient>;
const password = "s3cret-pass";

beforeAll(async () => {
  fx = await userFixture({ BCRYPT_COST: TIMING_BCRYPT_COST });
  svc = await fx.start();
  client = fx.client();
});

afterAll(async () => {
  await fx?.cleanup();
});

const register = (username: string, pw = password) => client.register({ username, password: pw });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe("accounts", () => {
  it("register → login → GetUser, with tokens that verify", async () => {
    const name = uniqueName("alice");
    const reg = await register(name);
    expect(reg.userId).toBeGreaterThan(0);
    expect(Number.isSafeInteger(reg.userId)).toBe(true);
    expect((await client.verifyToken({ token: reg.token })).userId).toBe(reg.userId);

    const login = await client.login({ username: name, password });
    expect(login.userId).toBe(reg.userId);
    const claims = await client.verifyToken({ token: login.token });
    expect(claims.userId).toBe(reg.userId);
    expect(claims.jti.length).toBeGreaterThan(0);
    expect(claims.expiresAtUnix).toBeGreaterThan(Date.now() / 1000);

    const { user } = await client.getUser({ userId: reg.userId });
    expect(user).toEqual({
      id: reg.userId,
      name,
      avatar: "",
      backgroundImage: "",
      signature: "",
      followCount: 0,
      followerCount: 0,
      totalFavorited: 0,
      workCount: 0,
      favoriteCount: 0,
    });
    const [row] = await fx.rows("users", "id = ?", [reg.userId]);
    expect(String(row!.password_hash)).toMatch(new RegExp(`^\\$2[aby]\\$0?${TIMING_BCRYPT_COST}\\$`));
    expect(String(row!.password_hash)).not.toContain(password);
  });

  it("refuses a taken username with ALREADY_EXISTS", async () => {
    const name = uniqueName("dup");
    await register(name);
    expect(await codeOf(register(name, "another-pass"))).toBe(status.ALREADY_EXISTS);
    expect(await fx.rows("users", "username = ?", [name])).toHaveLength(1);
  });

  it("lets exactly one of several concurrent registers of one name win", async () => {
    for (const contenders of [2, 8]) {
      const name = uniqueName(`race${contenders}`);
      const results = await Promise.allSettled(Array.from({ length: contenders }, () => register(name)));
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost.map((r) => (r.reason as { code: number }).code)).toEqual(Array(contenders - 1).fill(status.ALREADY_EXISTS));
      // No half-written accounts of the losers: one row in each table.
      const users = await fx.rows("users", "username = ?", [name]);
      expect(users.map((u) => Number(u.id))).toEqual([(won[0] as PromiseFulfilledResult<userV1.RegisterResponse>).value.userId]);
      const claims = await fx.rows("usernames", "username = ?", [name]);
      expect(claims.map((c) => [Number(c.user_id), Number(c.state)])).toEqual([[Number(users[0]!.id), 1]]);
    }
  });

  it("answers a wrong password and an unknown user the same, in about the same time", async () => {
    const name = uniqueName("bob");
    await register(name);
    const wrong = client.login({ username: name, password: "not-the-password" });
    const unknown = client.login({ username: uniqueName("nobody"), password: "not-the-password" });
    const [a, b] = await Promise.allSettled([wrong, unknown]);
    for (const r of [a, b]) {
      expect(r.status).toBe("rejected");
      const err = (r as PromiseRejectedResult).reason as { code: number; details: string };
      expect(err.code).toBe(status.UNAUTHENTICATED);
      expect(err.details).toBe("wrong username or password");
    }

    const time = async (username: string) => {
      const t0 = performance.now();
      await codeOf(client.login({ username, password: "not-the-password" }));
      return performance.now() - t0;
    };
    const wrongMs: number[] = [];
    const unknownMs: number[] = [];
    for (let i = 0; i < TIMING_SAMPLES; i++) {
      wrongMs.push(await time(name));
      unknownMs.push(await time(uniqueName("ghost")));
    }
    // Both pay one bcrypt check at the configured cost; an unknown name is not a fast path.
    const ratio = median(unknownMs) / median(wrongMs);
    expect(ratio).toBeGreaterThan(0.6);
    expect(ratio).toBeLessThan(1.6);
  });

  it("rehashes a password stored at another bcrypt cost after a successful login", async () => {
    const name = uniqueName("rehash");
    const { userId } = await register(name);
    const cheap = await hashPassword(password, 4);
    await svc.internals.store.updatePasswordHash(userId, cheap, Date.now());
    expect((await client.login({ username: name, password })).userId).toBe(userId);
    await waitFor("rehash", async () => !String((await fx.rows("users", "id = ?", [userId]))[0]!.password_hash).startsWith("$2b$04$"));
    const [row] = await fx.rows("users", "id = ?", [userId]);
    expect(String(row!.password_hash)).toMatch(new RegExp(`^\\$2[aby]\\$0?${TIMING_BCRYPT_COST}\\$`));
    expect((await client.login({ username: name, password })).userId).toBe(userId);
  });

  it("logout revokes the token: VerifyToken refuses it afterwards; other tokens stay valid", async () => {
    const name = uniqueName("carol");
    const { token: first } = await register(name);
    const { token: second } = await client.login({ username: name, password });
    await client.logout({ token: first });
    expect(await codeOf(client.verifyToken({ token: first }))).toBe(status.UNAUTHENTICATED);
    expect((await client.verifyToken({ token: second })).userId).toBeGreaterThan(0);
    await client.logout({ token: first }); // twice is fine
    expect(await codeOf(client.logout({ token: "not.a.token" }))).toBe(status.UNAUTHENTICATED);
    expect(await codeOf(client.verifyToken({ token: "" }))).toBe(status.UNAUTHENTICATED);
  });

  it("refuses bad input with INVALID_ARGUMENT and writes nothing", async () => {
    const before = { users: (await fx.rows("users")).length, names: (await fx.rows("usernames")).length };
    const queriesBefore = await shardQueryCount();
    const cases: [string, string][] = [
      ["", password],
      ["x".repeat(33), password],
      [" padded", password],
      ["tab\tname", password],
      ["zero\u200bwidth", password],
      [uniqueName("shortpw"), "12345"],
      [uniqueName("longpw"), "p".repeat(33)],
      [uniqueName("bytespw"), "😀".repeat(20)], // 20 characters, 80 bytes: more than bcrypt reads
    ];
    for (const [username, pw] of cases) {
      const err = await client.register({ username, password: pw }).then(
        () => undefined,
        (e: { code: number; details: string }) => e,
      );
      expect(err?.code, `${JSON.stringify(username)} / ${pw.length}`).toBe(status.INVALID_ARGUMENT);
      expect(err?.details).toMatch(/^(username|password) must/);
    }
    expect(await codeOf(client.login({ username: "", password }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(client.getUser({ userId: 0 }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(client.getUser({ userId: -5 }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(client.userExists({ userId: 0 }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(client.batchGetUsers({ userIds: [1, 0], skipProcessCache: false }))).toBe(status.INVALID_ARGUMENT);
    expect(await shardQueryCount()).toBe(queriesBefore);
    expect((await fx.rows("users")).length).toBe(before.users);
    expect((await fx.rows("usernames")).length).toBe(before.names);
    // 32 characters and a 32-character password are fine (the limits are inclusive).
    await register("é".repeat(32), "p".repeat(32));
  });
});

describe("profiles", () => {
  it("answers NOT_FOUND for an unknown id, then from the negative cache without the shards", async () => {
    const ghost = 987_654_321_012;
    expect(await codeOf(client.getUser({ userId: ghost }))).toBe(status.NOT_FOUND);
    await waitFor("negative entry", async () => (await fx.redis.get(svc.internals.cache.key(ghost))) === "M");
    const before = await shardQueryCount();
    expect(await codeOf(client.getUser({ userId: ghost }))).toBe(status.NOT_FOUND);
    expect(await shardQueryCount()).toBe(before);
    expect(await fx.redis.ttl(svc.internals.cache.key(ghost))).toBeLessThanOrEqual(60);
  });

  it("BatchGetUsers keeps the order, lists unknown ids, reads each shard once, then only the cache", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push((await register(uniqueName(`batch${i}`))).userId);
    const unknownA = 555_000_000_001;
    const unknownB = 555_000_000_002;
    const asked = [ids[3]!, unknownA, ids[0]!, ids[5]!, unknownB, ids[1]!, ids[4]!, ids[2]!];
    for (const id of ids) await fx.redis.del(svc.internals.cache.key(id)); // cold cache

    const before = await shardQueryCount("get_profiles");
    const res = await client.batchGetUsers({ userIds: asked, skipProcessCache: false });
    expect(res.users.map((u) => u.id)).toEqual(asked.filter((id) => id !== unknownA && id !== unknownB));
    expect(res.missingUserIds).toEqual([unknownA, unknownB]);
    expect((await shardQueryCount("get_profiles")) - before).toBeLessThanOrEqual(2); // one per physical shard at most

    // one EXISTS per key: the profile keys are in different slots on a Cluster
    const cachedKeys = async () => (await Promise.all(asked.map((id) => fx.redis.exists(svc.internals.cache.key(id))))).reduce((a, b) => a + b, 0);
    await waitFor("write-back", async () => (await cachedKeys()) === asked.length);
    const cached = await shardQueryCount();
    const again = await client.batchGetUsers({ userIds: asked, skipProcessCache: false });
    expect(again).toEqual(res);
    expect(await shardQueryCount()).toBe(cached);
  });

  it("BatchGetUsers takes up to 100 ids and refuses 101", async () => {
    const { userId } = await register(uniqueName("hundred"));
    const hundred = Array.from({ length: 100 }, (_, i) => (i === 42 ? userId : 777_000_000_000 + i));
    const res = await client.batchGetUsers({ userIds: hundred, skipProcessCache: false });
    expect(res.users.map((u) => u.id)).toEqual([userId]);
    expect(res.missingUserIds).toHaveLength(99);
    const err = await client.batchGetUsers({ userIds: [...hundred, 1], skipProcessCache: false }).catch((e: { code: number; details: string }) => e);
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("at most 100") });
    expect((await client.batchGetUsers({ userIds: [], skipProcessCache: false })).users).toEqual([]);
  });

  it("UserExists refuses an unknown id on the bloom filter alone, without a shard query", async () => {
    const { userId } = await register(uniqueName("exists"));
    expect((await client.userExists({ userId })).exists).toBe(true);

    const unknown = Array.from({ length: 20 }, (_, i) => 900_000_000_000 + i * 7919);
    const bits = await svc.internals.existence.bloom.mightContainMany(unknown.map(String));
    const certainlyAbsent = unknown.filter((_, i) => !bits[i]);
    expect(certainlyAbsent.length).toBeGreaterThan(15); // false positives are rare at 0.1 %
    const queries = await shardQueryCount();
    const absentAnswers = await counterValue("user_bloom_answers_total", { answer: "absent" });
    for (const id of certainlyAbsent) expect((await client.userExists({ userId: id })).exists).toBe(false);
    expect(await shardQueryCount()).toBe(queries);
    expect(await counterValue("user_bloom_answers_total", { answer: "absent" })).toBe(absentAnswers + certainlyAbsent.length);
  });

  it("applyCountChanged updates the counters, invalidates the cached profile and ignores stale versions", async () => {
    const { userId } = await register(uniqueName("counted"));
    const counts = svc.internals.counts;
    expect((await client.getUser({ userId })).user?.followerCount).toBe(0);
    await waitFor("cached", async () => (await fx.redis.get(svc.internals.cache.key(userId)))?.startsWith("P") === true);

    expect(await counts.applyCountChanged({ userId, name: "follower", value: 7, version: 10 })).toEqual({ applied: true });
    expect(await counts.applyCountChanged({ userId, name: "following", value: 3, version: 4 })).toEqual({ applied: true });
    let user = (await client.getUser({ userId })).user;
    expect([user?.followCount, user?.followerCount]).toEqual([3, 7]);

    // Older and equal versions change nothing, whatever their value.
    expect(await counts.applyCountChanged({ userId, name: "follower", value: 1, version: 9 })).toEqual({ applied: false });
    expect(await counts.applyCountChanged({ userId, name: "follower", value: 2, version: 10 })).toEqual({ applied: false });
    // The two counters have versions of their own: a low following version still applies.
    expect(await counts.applyCountChanged({ userId, name: "following", value: 5, version: 5 })).toEqual({ applied: true });
    user = (await client.getUser({ userId })).user;
    expect([user?.followCount, user?.followerCount]).toEqual([5, 7]);
    const [row] = await fx.rows("users", "id = ?", [userId]);
    expect([Number(row!.follower_count), Number(row!.follower_count_version), Number(row!.follow_count_version)]).toEqual([7, 10, 5]);

    // An unknown user is not an error (the event may be for a user of another deployment).
    expect(await counts.applyCountChanged({ userId: 123_456_789, name: "follower", value: 1, version: 1 })).toEqual({ applied: false });
  });

  it("announces every profile change on PROFILE_CHANGES_CHANNEL, in the script that invalidates the cache entry", async () => {
    const sub = redisFromUrl(fx.env.REDIS_URL!);
    const heard: string[] = [];
    sub.on("message", (channel: string, message: string) => {
      if (channel === fx.env.PROFILE_CHANGES_CHANNEL) heard.push(message);
    });
    try {
      await sub.subscribe(fx.env.PROFILE_CHANGES_CHANNEL!);
      const { userId } = await register(uniqueName("announced"));
      const other = (await register(uniqueName("announced"))).userId;
      await waitFor("the registers' notices", async () => heard.includes(String(userId)) && heard.includes(String(other)));
      heard.length = 0; // a register announces its user too: it drops any "no such user" entry
      expect(await svc.internals.counts.applyCountChanged({ userId, name: "follower", value: 5, version: 5 })).toEqual({ applied: true });
      await svc.internals.counts.applyCountChanged({ userId: other, name: "following", value: 1, version: 1 });
      // on a Redis Cluster with replicas a notice published by a script may arrive twice: harmless, a second drop
      await waitFor("both notices", async () => heard.includes(String(userId)) && heard.includes(String(other)));
      expect(new Set(heard)).toEqual(new Set([String(userId), String(other)]));
    } finally {
      sub.disconnect();
    }
  });

  it("a profile read that raced a change cannot put the older copy back in the cache", async () => {
    const { userId } = await register(uniqueName("race"));
    const stale = (await svc.internals.store.getProfiles([userId])).get(userId)!;
    await svc.internals.counts.applyCountChanged({ userId, name: "follower", value: 42, version: 1 });
    await svc.internals.cache.fill([stale], []); // the slow reader arrives after the invalidation
    expect((await client.getUser({ userId })).user?.followerCount).toBe(42);
  });

  it("BatchGetUsers with skip_process_cache answers from the shared cache, not the instance's kept copy", async () => {
    // a second instance under a name of its own, whose kept copies outlive the test
    const hotName = `${fx.env.SERVICE_NAME}-hot`;
    const hotSvc = await fx.start({ SERVICE_NAME: hotName, HOT_KEY_TTL_MS: "600000", HOT_KEY_MIN_HITS: "1" });
    const hotClient = createServiceClient(userV1.UserServiceClient, { target: { address: `127.0.0.1:${hotSvc.grpcPort}` }, logger, deadlineMs: 10_000 });
    try {
      const { userId } = await register(uniqueName("kept"));
      const followers = async (skipProcessCache: boolean) =>
        (await hotClient.batchGetUsers({ userIds: [userId], skipProcessCache })).users.map((u) => u.followerCount);
      // hot and kept: a second read is not a Redis read
      expect(await followers(false)).toEqual([0]);
      expect(await followers(false)).toEqual([0]);
      const hotLookups = () => counterValue("cache_lookups_total", { cache: "hot_profile", result: "hit" });
      const hitsBefore = await hotLookups();
      expect(await followers(false)).toEqual([0]);
      expect(await hotLookups()).toBe(hitsBefore + 1);

      // another instance applies a count: it drops the shared cache's copy, not this instance's
      await svc.internals.counts.applyCountChanged({ userId, name: "follower", value: 9, version: 1 });
      expect(await followers(false)).toEqual([0]); // the kept copy, within its TTL
      expect(await followers(true)).toEqual([9]);
      expect(await hotLookups()).toBe(hitsBefore + 2); // the skipping read did not look
    } finally {
      await hotClient.close();
    }
  });

  it("reports ready with its shards, Redis and id worker lease", async () => {
    const res = await fetch(`http://127.0.0.1:${svc.adminPort}/readyz`);
    const body = (await res.json()) as { checks: { name: string; ok: boolean }[] };
    expect(res.status).toBe(200);
    expect(body.checks.map((c) => c.name).sort()).toEqual(["etcd-registration", "id-worker-lease", "mysql-shards", "redis"]);
  });
});
