/**
 * The writer's decisions (docs/design.md §5, ADR 10, 14, 15) over in-memory
 * ports: pure logic, no Redis and no Kafka. What the Redis scripts do is
 * tested against Redis in following-write.int.test.ts, noop-join.int.test.ts
 * and relation-kafka-outage.int.test.ts.
 */
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { FollowingLoader } from "../src/domain/following-loader.js";
import { RelationWriter } from "../src/domain/relation-writer.js";
import {
  emptyShard,
  everyoneExists,
  InMemoryFanSteps,
  InMemoryFollowingCache,
  InMemoryOutbox,
  InMemoryPendingIndex,
  recordingLogger,
  ScriptedPublisher,
  type CallLog,
} from "./in-memory-ports.js";

const [A, B] = [11, 22];
const SWEEP_AFTER_MS = 10_000;

function setup(opts: { followingCap?: number; admit?: () => Promise<void> } = {}) {
  const log: CallLog = [];
  const outbox = new InMemoryOutbox(log);
  const cache = new InMemoryFollowingCache(log, outbox);
  // following:{A} warm: the steps of a write on a cold key start with a load (following-loader.test.ts)
  cache.user(A).loaded = true;
  const fans = new InMemoryFanSteps(log);
  const pendingIndex = new InMemoryPendingIndex(log);
  const publisher = new ScriptedPublisher(log);
  const kicked: number[] = [];
  const drainer = {
    admit: opts.admit ?? (async () => undefined),
    kick: (a: number) => {
      log.push(`kick ${a}`);
      kicked.push(a);
    },
  };
  const { logger, lines } = recordingLogger();
  const writer = new RelationWriter({
    cache,
    fans,
    outbox,
    loader: new FollowingLoader(cache, emptyShard(), 3),
    users: everyoneExists,
    publisher,
    drainer,
    pendingIndex,
    sweepAfterMs: SWEEP_AFTER_MS,
    publishDeadlineMs: 1_500,
    followingCap: opts.followingCap ?? 5_000,
    logger,
  });
  return { log, outbox, cache, fans, pendingIndex, publisher, kicked, lines, writer };
}

describe("RelationWriter", () => {
  it("a changed edge is marked, decided, published, then its fans step runs", async () => {
    const s = setup();
    const before = Date.now();
    await expect(s.writer.follow(A, B, 1)).resolves.toEqual({ changed: true });
    expect(s.log).toEqual([`mark ${A}`, `apply ${A}→${B} follow`, `publish ${A}→${B} follow`, `fan ${A}→${B} follow`]);
    expect(s.cache.isFollowing(A, B)).toBe(true);
    expect(s.publisher.published).toHaveLength(1);
    expect(s.fans.applied).toEqual(s.publisher.published);
    // the mark is due once the sweeper may call the event lost
    expect(s.pendingIndex.due.get(A)).toBeGreaterThanOrEqual(before + SWEEP_AFTER_MS);
  });

  it("a no-op answers unchanged, publishes nothing and runs no fans step", async () => {
    const s = setup();
    await s.writer.follow(A, B, 1);
    s.log.length = 0;
    await expect(s.writer.follow(A, B, 1)).resolves.toEqual({ changed: false });
    await expect(s.writer.unfollow(A, 33)).resolves.toEqual({ changed: false });
    expect(s.log).toEqual([`mark ${A}`, `apply ${A}→${B} follow`, `mark ${A}`, `apply ${A}→33 unfollow`]);
    expect(s.publisher.published).toHaveLength(1);
    expect(s.cache.isFollowing(A, B)).toBe(true);
  });

  it("a failed publish is undone, the drainer is kicked, and the caller hears UNAVAILABLE", async () => {
    const s = setup();
    s.publisher.outcomes.push("fail");
    await expect(s.writer.follow(A, B, 1)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(s.log).toEqual([`mark ${A}`, `apply ${A}→${B} follow`, `publish ${A}→${B} follow`, `undo ${A}→${B}`, `kick ${A}`]);
    expect(s.cache.isFollowing(A, B)).toBe(false);
    // the failed transition and its undo, queued in that order
    expect(s.outbox.queue(A).map((t) => t.action)).toEqual(["follow", "unfollow"]);
    expect(s.fans.applied).toEqual([]);
  });

  it("a failed undo is logged and the caller hears UNAVAILABLE; the mark made before the decision is left for the sweeper", async () => {
    const s = setup();
    s.publisher.outcomes.push("fail");
    s.cache.failUndo = true;
    await expect(s.writer.follow(A, B, 1)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(s.log).toEqual([`mark ${A}`, `apply ${A}→${B} follow`, `publish ${A}→${B} follow`, `undo ${A}→${B}`]);
    expect(s.kicked).toEqual([]);
    expect(s.lines.filter((l) => l.level === "error").map((l) => l.msg)).toEqual(["undoing an unpublished transition failed"]);
    expect(s.pendingIndex.due.has(A)).toBe(true);
  });

  it("an undo that finds the pair moved on still queues the failed transition", async () => {
    const s = setup();
    s.publisher.outcomes.push("fail");
    s.cache.undoTransition = async () => ({ status: "noop" });
    await expect(s.writer.follow(A, B, 1)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(s.log).toEqual([`mark ${A}`, `apply ${A}→${B} follow`, `publish ${A}→${B} follow`, `outbox ${A}→${B} follow`, `kick ${A}`]);
  });

  it("over the cap: FAILED_PRECONDITION, nothing published", async () => {
    const s = setup({ followingCap: 1 });
    await s.writer.follow(A, B, 1);
    await expect(s.writer.follow(A, 33, 1)).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(s.publisher.published.map((t) => t.to)).toEqual([B]);
    expect(s.cache.isFollowing(A, 33)).toBe(false);
  });

  it("refuses following oneself before deciding anything", async () => {
    const s = setup();
    await expect(s.writer.follow(A, A, 1)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(s.log).toEqual([]);
  });

  describe("a no-op resting on a publish of this process still in flight", () => {
    it("waits for it and answers unchanged once it is acknowledged", async () => {
      const s = setup();
      s.publisher.outcomes.push("hold");
      const first = s.writer.follow(A, B, 1);
      await s.publisher.whenHeld();
      let secondDone = false;
      const second = s.writer.follow(A, B, 1).finally(() => (secondDone = true));
      await new Promise((r) => setTimeout(r, 20));
      expect(secondDone).toBe(false);
      s.publisher.release(true);
      await expect(first).resolves.toEqual({ changed: true });
      await expect(second).resolves.toEqual({ changed: false });
      expect(s.publisher.published).toHaveLength(1);
    });

    it("decides again when that publish failed (and takes effect itself)", async () => {
      const s = setup();
      s.publisher.outcomes.push("hold");
      const first = s.writer.follow(A, B, 1);
      await s.publisher.whenHeld();
      const second = s.writer.follow(A, B, 1);
      await new Promise((r) => setTimeout(r, 20));
      s.publisher.release(false);
      await expect(first).rejects.toMatchObject({ code: status.UNAVAILABLE });
      await expect(second).resolves.toEqual({ changed: true });
      expect(s.cache.isFollowing(A, B)).toBe(true);
      // decided at least twice: the no-op, then the transition after the undo
      expect(s.log.filter((l) => l === `apply ${A}→${B} follow`).length).toBeGreaterThanOrEqual(3);
      expect(s.publisher.published.map((t) => t.action)).toEqual(["follow"]);
    });
  });

  it("a write refused for a full outbox marks, decides and publishes nothing", async () => {
    const s = setup({
      admit: async () => {
        throw Object.assign(new Error("the outbox is full"), { code: status.UNAVAILABLE });
      },
    });
    await expect(s.writer.follow(A, B, 1)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(s.log).toEqual([]);
    expect(s.cache.isFollowing(A, B)).toBe(false);
    expect(s.publisher.published).toEqual([]);
  });

  it("every decision is preceded by a mark of its user", async () => {
    const s = setup();
    s.publisher.outcomes.push("fail");
    await s.writer.follow(A, B, 1).catch(() => undefined);
    await s.writer.follow(A, B, 1);
    await s.writer.follow(A, B, 1);
    await s.writer.unfollow(A, B);
    const l = s.log;
    l.forEach((line, i) => {
      if (line.startsWith("apply ")) expect(l[i - 1]).toBe(`mark ${A}`);
    });
    expect(l.filter((x) => x.startsWith("apply ")).length).toBe(4);
  });
});
