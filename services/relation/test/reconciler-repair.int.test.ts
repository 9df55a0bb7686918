/**
 * The reconciler finds and repairs injected divergence: a deleted `fans` row,
 * an older `fans` row, wrong counts on both sides, a stale pending entry and a
 * pending entry whose event never got persisted. Driven through the command
 * (spawned like an operator would), dry run first (reports, changes nothing,
 * exit 2), then the repair, then a clean dry run; the periodic job in the
 * persister repairs a wrong count by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RowDataPacket } from "@rs/mysql";
import { encodePending } from "../src/domain/relation-transition.js";
import { startPersister } from "../src/persister/persister.process.js";
import {
  createPipelineWorld,
  differences,
  GraphModel,
  logger,
  readCounts,
  snapshot,
  waitForConvergence,
  type CountsReader,
  type PipelineWorld,
  runReconcilerCli,
} from "./persister-fixture.js";

const TEN_MINUTES_MS = 10 * 60 * 1000;

let w: PipelineWorld;
let counts: CountsReader;
const model = new GraphModel(40);

beforeAll(async () => {
  w = await createPipelineWorld("reconcile");
  counts = await readCounts(w);
  await w.produce(model.transitions(800));
  const p = await startPersister(w.config(), { logger });
  try {
    expect(await waitForConvergence(w.sharded, model, 30_000)).toEqual([]);
  } finally {
    await p.stop();
  }
});

afterAll(async () => {
  await counts?.stop();
  await w?.cleanup();
});

const cli = (args: string[], env: Record<string, string> = {}) => runReconcilerCli(w, args, env);

const q = async <T extends RowDataPacket>(owner: number, sql: string, params: unknown[]) => (await w.sharded.poolFor(owner).query<T[]>(sql, params))[0];

describe("reconciler", () => {
  const active = () => [...model.activeEdges()].map((k) => k.split(":").map(Number) as [number, number]);

  it("reports injected divergence in a dry run, repairs it, and then finds nothing", async () => {
    const [deleted, staled, countedWrong] = active();
    const [a1, b1] = deleted!;
    const [a2, b2] = staled!;
    await q(b1, "DELETE FROM fans WHERE to_user_id = ? AND from_user_id = ?", [b1, a1]);
    await q(b2, "UPDATE fans SET status = 0, version = version - 1 WHERE to_user_id = ? AND from_user_id = ?", [b2, a2]);
    const wrongUser = countedWrong![0];
    await q(wrongUser, "UPDATE following_counts SET following_count = following_count + 5 WHERE user_id = ?", [wrongUser]);
    const fanless = model.users.find((u) => (model.followerCounts().get(u) ?? 0) > 0)!;
    await q(fanless, "UPDATE follower_counts SET follower_count = 0 WHERE user_id = ?", [fanless]);

    // A stale pending entry (the persister's compare-and-delete was lost) ...
    const [stale] = await q<RowDataPacket>(a1, "SELECT to_user_id, version FROM follows WHERE from_user_id = ? AND to_user_id = ?", [a1, b1]);
    const pendingKey = (a: number) => `${w.redis.prefix}pending:{${a}}`;
    await w.admin.hset(pendingKey(a1), String(b1), encodePending({ action: "follow", version: Number(stale!.version), timeMs: 1, source: 1, prevTimeMs: 0 }));
    // ... and one acknowledged ten minutes ago whose event never reached the persister
    // (of another user than a1: each pending hash is counted below)
    const known = model.versions();
    const [a3, b3] = model.users
      .filter((a) => a !== a1)
      .flatMap((a) => model.users.filter((b) => b !== a && !known.has(`${a}:${b}`)).map((b) => [a, b] as const))[0]!;
    const lostVersion = (Date.now() - TEN_MINUTES_MS) * 1_000;
    const lostAction = "follow";
    await w.admin.hset(
      pendingKey(a3),
      String(b3),
      encodePending({ action: lostAction, version: lostVersion, timeMs: Date.now() - TEN_MINUTES_MS, source: 2, prevTimeMs: 0 }),
    );

    const before = await snapshot(w.sharded);
    // The model's transitions are seconds old: no grace, so they count as settled.
    const dry = await cli(["--dry-run", "--grace-ms", "0"]);
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(2);
    for (const line of [
      "found fans_missing: 1",
      "found fans_stale: 1",
      "found following_count_wrong: 1",
      "found pending_stale: 1",
      "found pending_unpersisted: 1",
    ]) {
      expect(dry.stdout).toContain(line);
    }
    expect(dry.stdout).toMatch(/found follower_count_wrong: [1-9]/);
    expect(await snapshot(w.sharded)).toEqual(before);
    expect(await w.admin.hlen(pendingKey(a1))).toBe(1);

    // every count.changed of the persister read before the repair, so the old versions are known
    await counts.caughtUp();
    const published = counts.records;
    const publishedBefore = published.length;
    const fix = await cli(["--grace-ms", "0", "--batch-rows", "50"]);
    expect(fix.stderr).toBe("");
    expect(fix.code).toBe(0);
    expect(fix.stdout).toContain("found fans_missing: 1, fixed 1");
    expect(fix.stdout).toContain("found pending_unpersisted: 1, fixed 1");

    model.record({ from: a3, to: b3, action: lostAction, version: lostVersion, occurredAtMs: 0, source: 2 });
    expect(differences(await snapshot(w.sharded), model)).toEqual([]);
    expect(await w.admin.exists(pendingKey(a1), pendingKey(a3))).toBe(0);

    // The repaired counts went out on count.changed (acknowledged before the command exited), with versions above the old ones.
    await counts.caughtUp();
    const repaired = published.slice(publishedBefore);
    const wrongFix = repaired.find((c) => c.userId === wrongUser && c.name === "following");
    expect(wrongFix?.value).toBe(model.followingCounts().get(wrongUser) ?? 0);
    const oldVersion = Math.max(
      ...published
        .slice(0, publishedBefore)
        .filter((c) => c.userId === wrongUser && c.name === "following")
        .map((c) => c.version),
    );
    expect(wrongFix!.version).toBeGreaterThan(oldVersion);

    const clean = await cli(["--dry-run", "--json", "--grace-ms", "0"]);
    expect(clean.code).toBe(0);
    const report = JSON.parse(clean.stdout) as { found: Record<string, number>; scanned: { followsRows: number } };
    expect(Object.values(report.found).every((n) => n === 0)).toBe(true);
    expect(report.scanned.followsRows).toBe(model.versions().size);
  }, 90_000);

  it("runs periodically inside the persister and repairs a wrong count", async () => {
    const [[user]] = [active()[0]!];
    await q(user!, "UPDATE following_counts SET following_count = 999 WHERE user_id = ?", [user]);
    const p = await startPersister(w.config({ RECONCILE_INTERVAL_MS: "300", RECONCILE_GRACE_MS: "0", RECONCILE_BATCH_ROWS: "7", RECONCILE_PAUSE_MS: "0" }), {
      logger,
    });
    try {
      expect(await waitForConvergence(w.sharded, model, 40_000)).toEqual([]);
    } finally {
      await p.stop();
    }
  }, 60_000);

  it("refuses a second repairing run while one holds the lock", async () => {
    const conn = await w.sharded.connect(0);
    try {
      await conn.query("SELECT GET_LOCK(CONCAT('rs_reconcile:', DATABASE()), 0)");
      const busy = await cli([]);
      expect(busy.code).toBe(3);
      expect(busy.stderr).toContain("another reconciler is running");
    } finally {
      await conn.end();
    }
  }, 30_000);
});
