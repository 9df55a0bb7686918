import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "@rs/redis";
import { RelationCache, type ApplyResult } from "../src/adapters/redis/relation-cache.js";
import { redisFixture, type RedisFixture } from "./redis-fixture.js";

const CONNECTIONS = 8;
const CAP = 5_000;
const EMPTY = { rows: [], maxVersion: 0 };

let fx: RedisFixture;
let caches: RelationCache[];
let admin: RedisClient;
let nextUser = 1_000;
/** A user id no other test of this file touches. */
const freshUser = () => ++nextUser;
const now = () => Date.now();

beforeAll(() => {
  fx = redisFixture();
  admin = fx.client();
  caches = Array.from({ length: CONNECTIONS }, () => new RelationCache(fx.client(), { keyPrefix: fx.prefix }));
});
afterAll(() => fx.cleanup());

const changed = (rs: ApplyResult[]) => rs.filter((r): r is Extract<ApplyResult, { status: "changed" }> => r.status === "changed");

describe("applyTransition", () => {
  it("answers not_loaded on a cold key and never writes it", async () => {
    const a = freshUser();
    expect(await caches[0]!.applyTransition(a, 2, "follow", now(), 0, CAP)).toEqual({ status: "not_loaded" });
    expect(await admin.exists(caches[0]!.keys.following(a), caches[0]!.keys.pending(a))).toBe(0);
  });

  it("200 concurrent identical follows over several connections: exactly one changes, with one version", async () => {
    const a = freshUser();
    await caches[0]!.ensureLoaded(a, async () => EMPTY);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => caches[i % CONNECTIONS]!.applyTransition(a, 77, "follow", now(), 3, CAP)));
    const wins = changed(results);
    expect(wins).toHaveLength(1);
    expect(results.filter((r) => r.status === "noop")).toHaveLength(199);
    const pending = await caches[0]!.pendingEntries(a);
    expect(pending).toEqual([{ to: 77, action: "follow", version: wins[0]!.version, timeMs: wins[0]!.occurredAtMs, source: 3, prevTimeMs: 0 }]);
    expect(wins[0]!.transition).toMatchObject({ from: a, to: 77, action: "follow", source: 3 });
  });

  it("flapping follow/unfollow on one pair: versions strictly increase, actions alternate, state and pending = the last change", async () => {
    const a = freshUser();
    const b = 5;
    await caches[0]!.ensureLoaded(a, async () => EMPTY);
    const ops = Array.from({ length: 400 }, (_, i) =>
      caches[i % CONNECTIONS]!.applyTransition(a, b, Math.random() < 0.5 ? "follow" : "unfollow", now(), 1, CAP),
    );
    const wins = changed(await Promise.all(ops)).sort((x, y) => x.version - y.version);
    expect(wins.length).toBeGreaterThan(10);
    for (let i = 0; i < wins.length; i++) {
      // a real transition always flips the edge: follow, unfollow, follow...
      expect(wins[i]!.transition.action).toBe(i % 2 === 0 ? "follow" : "unfollow");
      if (i > 0) expect(wins[i]!.version).toBeGreaterThan(wins[i - 1]!.version);
    }
    const last = wins[wins.length - 1]!;
    const state = await caches[0]!.isFollowing(a, b);
    expect(state).toEqual({ status: "ok", following: last.transition.action === "follow" });
    const pending = await caches[0]!.pendingEntries(a);
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ to: b, action: last.transition.action, version: last.version });
  });

  it("enforces the cap atomically, and an existing follow at the cap is still a no-op", async () => {
    const a = freshUser();
    const cap = 5;
    await caches[0]!.ensureLoaded(a, async () => EMPTY);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => caches[i % CONNECTIONS]!.applyTransition(a, 100 + i, "follow", now(), 0, cap)));
    expect(changed(results)).toHaveLength(cap);
    expect(results.filter((r) => r.status === "cap_exceeded")).toHaveLength(40 - cap);
    expect(await caches[0]!.count(a)).toEqual({ status: "ok", count: cap });
    const followed = changed(results)[0]!.transition.to;
    expect((await caches[0]!.applyTransition(a, followed, "follow", now(), 0, cap)).status).toBe("noop");
    expect((await caches[0]!.applyTransition(a, followed, "unfollow", now(), 0, cap)).status).toBe("changed");
    expect((await caches[0]!.applyTransition(a, 999, "follow", now(), 0, cap)).status).toBe("changed");
    expect((await caches[0]!.applyTransition(a, 998, "follow", now(), 0, cap)).status).toBe("cap_exceeded");
  });

  it("refreshes the TTL on write, with jitter", async () => {
    const a = freshUser();
    const cache = new RelationCache(fx.client(), { keyPrefix: fx.prefix, ttlMs: 60_000, ttlJitterMs: 10_000 });
    await cache.ensureLoaded(a, async () => EMPTY);
    await admin.pexpire(cache.keys.following(a), 5_000);
    await cache.applyTransition(a, 3, "follow", now(), 0, CAP);
    const ttl = await admin.pttl(cache.keys.following(a));
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(70_000);
    expect(await admin.pttl(cache.keys.pending(a))).toBe(-1); // the overlay never expires
  });
});

describe("version counter", () => {
  const meta = (a: number) => caches[0]!.keys.meta(a);

  it("keeps versions increasing after the counter key is lost", async () => {
    const a = freshUser();
    const c = caches[0]!;
    await c.ensureLoaded(a, async () => EMPTY);
    const v1 = await c.applyTransition(a, 1, "follow", now(), 0, CAP);
    await admin.del(meta(a));
    const v2 = await c.applyTransition(a, 2, "follow", now(), 0, CAP);
    expect(v1.status === "changed" && v2.status === "changed" && v2.version > v1.version).toBe(true);
  });

  it("stays above a load floor ahead of the clock, also when the counter is then lost", async () => {
    const a = freshUser();
    const c = caches[0]!;
    const ahead = (await admin.time()).map(Number).reduce((s, us, i) => (i === 0 ? us * 1e6 : s + us), 0) + 1e12;
    // the shard has seen versions ahead of Redis's clock (say, a clock stepped back)
    await c.ensureLoaded(a, async () => ({ rows: [{ to: 9, timeMs: now(), version: ahead }], maxVersion: ahead }));
    const r1 = await c.applyTransition(a, 1, "follow", now(), 0, CAP);
    expect(r1.status === "changed" && r1.version).toBe(ahead + 1);
    // counter gone: the pending overlay still holds ahead + 1
    await admin.del(meta(a));
    const r2 = await c.applyTransition(a, 2, "follow", now(), 0, CAP);
    expect(r2.status === "changed" && r2.version).toBe(ahead + 2);
    // everything of A gone but the shard (a Redis that lost its data): the load floor carries it
    await admin.del(meta(a), c.keys.following(a), c.keys.pending(a));
    await c.ensureLoaded(a, async () => ({ rows: [], maxVersion: ahead + 2 }));
    const r3 = await c.applyTransition(a, 3, "follow", now(), 0, CAP);
    expect(r3.status === "changed" && r3.version).toBe(ahead + 3);
  });

  it("uses Redis TIME in µs as the floor (versions are time-like across users)", async () => {
    const a = freshUser();
    await caches[0]!.ensureLoaded(a, async () => EMPTY);
    const [sec, us] = (await admin.time()).map(Number);
    const r = await caches[0]!.applyTransition(a, 1, "follow", now(), 0, CAP);
    expect(r.status).toBe("changed");
    if (r.status === "changed") expect(r.version).toBeGreaterThanOrEqual(sec! * 1e6 + us!);
  });
});

describe("undoTransition", () => {
  it("reverts a follow whose publish failed, as a new pending transition queued in the outbox after the failed one", async () => {
    const a = freshUser();
    const c = caches[0]!;
    await c.ensureLoaded(a, async () => EMPTY);
    const f = await c.applyTransition(a, 50, "follow", 1_000_000, 4, CAP);
    if (f.status !== "changed") throw new Error("follow did not apply");
    const u = await c.undoTransition(a, 50, f.version, 2_000_000);
    expect(u.status).toBe("changed");
    if (u.status !== "changed") return;
    expect(u.transition).toMatchObject({ from: a, to: 50, action: "unfollow", occurredAtMs: 2_000_000, source: 4 });
    expect(u.transition.version).toBeGreaterThan(f.version);
    expect(await c.isFollowing(a, 50)).toEqual({ status: "ok", following: false });
    expect(await c.pendingEntries(a)).toEqual([
      { to: 50, action: "unfollow", version: u.transition.version, timeMs: 2_000_000, source: 4, prevTimeMs: 1_000_000 },
    ]);
    // the failed transition goes out again first (its publish may never have reached Kafka), then its undo
    expect(await c.outbox.peekOutbox(a, 10)).toEqual([f.transition, u.transition]);
    expect(await c.outbox.outboxUsers(1_000_000)).toContain(a);
    // the same undo again, and an undo of a version that is not the pending one: no-ops
    expect(await c.undoTransition(a, 50, f.version, 3_000_000)).toEqual({ status: "noop" });
    expect(await c.undoTransition(a, 51, f.version, 3_000_000)).toEqual({ status: "noop" });
    expect(await c.outbox.peekOutbox(a, 10)).toHaveLength(2);
  });

  it("restores an unfollowed edge at its old follow time", async () => {
    const a = freshUser();
    const c = caches[0]!;
    await c.ensureLoaded(a, async () => ({ rows: [{ to: 60, timeMs: 1_000, version: 10 }], maxVersion: 10 }));
    await c.applyTransition(a, 61, "follow", 5_000, 0, CAP);
    const u = await c.applyTransition(a, 60, "unfollow", 9_000, 0, CAP);
    if (u.status !== "changed") throw new Error("unfollow did not apply");
    const r = await c.undoTransition(a, 60, u.version, 10_000);
    expect(r.status === "changed" && r.transition).toMatchObject({ action: "follow", occurredAtMs: 1_000 });
    const page = await c.followingPage(a, undefined, 10);
    expect(page.status === "ok" && page.items).toEqual([
      { id: 61, timeMs: 5_000 },
      { id: 60, timeMs: 1_000 },
    ]);
  });

  it("is a no-op once the edge moved on or the transition was persisted", async () => {
    const a = freshUser();
    const c = caches[0]!;
    await c.ensureLoaded(a, async () => EMPTY);
    const f = await c.applyTransition(a, 70, "follow", now(), 0, CAP);
    const u = await c.applyTransition(a, 70, "unfollow", now(), 0, CAP);
    if (f.status !== "changed" || u.status !== "changed") throw new Error("setup failed");
    expect(await c.undoTransition(a, 70, f.version, now())).toEqual({ status: "noop" });
    expect(await c.isFollowing(a, 70)).toEqual({ status: "ok", following: false });
    await c.clearPending(a, [{ to: 70, version: u.version }]);
    expect(await c.undoTransition(a, 70, u.version, now())).toEqual({ status: "noop" });
  });

  it("works on a cold key: the overlay carries the undo into the next load", async () => {
    const a = freshUser();
    const c = caches[0]!;
    await c.ensureLoaded(a, async () => EMPTY);
    const f = await c.applyTransition(a, 80, "follow", now(), 0, CAP);
    if (f.status !== "changed") throw new Error("setup failed");
    await admin.del(c.keys.following(a));
    const u = await c.undoTransition(a, 80, f.version, now());
    expect(u.status).toBe("changed");
    expect(await admin.exists(c.keys.following(a))).toBe(0);
    await c.ensureLoaded(a, async () => EMPTY);
    expect(await c.isFollowing(a, 80)).toEqual({ status: "ok", following: false });
  });

  it("races with a new transition of the pair: exactly one of them wins the pending slot", async () => {
    for (let round = 0; round < 20; round++) {
      const a = freshUser();
      await caches[0]!.ensureLoaded(a, async () => EMPTY);
      const f = await caches[0]!.applyTransition(a, 90, "follow", now(), 0, CAP);
      if (f.status !== "changed") throw new Error("setup failed");
      const [undo, unfollow] = await Promise.all([
        caches[1]!.undoTransition(a, 90, f.version, now()),
        caches[2]!.applyTransition(a, 90, "unfollow", now(), 0, CAP),
      ]);
      // whichever ran first unfollowed; the other must have found nothing to do
      expect([undo.status, unfollow.status].sort()).toEqual(["changed", "noop"]);
      expect(await caches[0]!.isFollowing(a, 90)).toEqual({ status: "ok", following: false });
    }
  });
});

describe("outbox", () => {
  it("queues, peeks in order, acks by version and keeps the index in step", async () => {
    const a = freshUser();
    const c = caches[0]!;
    const t = (version: number) => ({ from: a, to: 3, action: "follow" as const, version, occurredAtMs: 1, source: 0 });
    await c.outbox.pushOutbox(t(1));
    await c.outbox.pushOutbox(t(2));
    await c.outbox.pushOutbox(t(3));
    expect((await c.outbox.peekOutbox(a, 2)).map((x) => x.version)).toEqual([1, 2]);
    expect(await c.outbox.ackOutbox(a, [2])).toBe(2);
    expect((await c.outbox.peekOutbox(a, 10)).map((x) => x.version)).toEqual([1, 3]);
    expect(await c.outbox.outboxUsers(1_000_000)).toContain(a);
    expect(await c.outbox.ackOutbox(a, [1, 3, 99])).toBe(0);
    expect(await c.outbox.outboxUsers(1_000_000)).not.toContain(a);
  });

  it("rebuilds a lost index entry from the outboxes", async () => {
    const a = freshUser();
    const c = caches[0]!;
    await c.outbox.pushOutbox({ from: a, to: 3, action: "unfollow", version: 5, occurredAtMs: 1, source: 0 });
    await admin.zrem(c.keys.outboxIndex(), String(a)); // a crash between the two commands
    expect(await c.outbox.outboxUsers(1_000_000)).not.toContain(a);
    expect(await c.outbox.rebuildOutboxIndex()).toBeGreaterThanOrEqual(1);
    expect(await c.outbox.outboxUsers(1_000_000)).toContain(a);
  });
});
