/**
 * The counts downstream of the shards: the count service's `counters` (and its
 * Redis cache) and the users' redundant follow_count/follower_count (and the
 * profile cache), against the shards' authoritative following_counts and
 * follower_counts. Real MariaDB, Redis and Kafka; the count-consumer and
 * user-consumer run in-process until the stores agree, then divergence is
 * injected and the reconciler command (spawned like an operator would) finds
 * it, repairs it with versions the consumers' newer-wins rule accepts, survives
 * a count.changed publish that fails, and rebuilds both stores from the shards.
 * A counter row never written reads the shards' count, not 0.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningProcess } from "@rs/bootstrap";
import { COUNT_CACHE_DEFAULTS, CounterCache, loadCountConfig, loadCountConsumerConfig, startCountConsumer, startCountService } from "@rs/count";
import type { RowDataPacket } from "@rs/mysql";
import { loadUserConsumerConfig, startUserConsumer } from "@rs/user";
import { infra } from "../../../test/infra.js";
import { startPersister } from "../src/persister/persister.process.js";
import { createPipelineWorld, GraphModel, logger, waitForConvergence, type PipelineWorld, runReconcilerCli } from "./persister-fixture.js";

const POLL_MS = 100;
const NAMES = ["following", "follower"] as const;
type Name = (typeof NAMES)[number];
/** A version no publisher reaches for centuries (µs clock): a store that is "ahead" of the shards. */
const FAR_AHEAD = 2 ** 52;

let w: PipelineWorld;
/** The world's prefixes of the counter cache and the user service's keys (the reconciler's COUNT_KEY_PREFIX, USER_REDIS_KEY_PREFIX). */
let countPrefix: string;
let userPrefix: string;
const model = new GraphModel(30);

beforeAll(async () => {
  w = await createPipelineWorld("downstream");
  countPrefix = w.env().COUNT_KEY_PREFIX!;
  userPrefix = w.env().USER_REDIS_KEY_PREFIX!;
  const now = Date.now();
  for (const id of model.users) {
    await w.sharded
      .poolFor(id)
      .query("INSERT INTO users (id, username, password_hash, created_at, updated_at) VALUES (?, ?, '', ?, ?)", [id, `u${id}`, now, now]);
  }
  await w.produce(model.transitions(300));
  const base = w.env();
  const consumers: RunningProcess[] = [
    await startPersister(w.config(), { logger }),
    await startCountConsumer(loadCountConsumerConfig({ ...base, COUNT_CONSUMER_GROUP: w.group("count-consumer") }), { logger }),
    await startUserConsumer(loadUserConsumerConfig({ ...base, REDIS_KEY_PREFIX: userPrefix, USER_CONSUMER_GROUP: w.group("user-consumer") }), { logger }),
  ];
  try {
    expect(await waitForConvergence(w.sharded, model, 30_000)).toEqual([]);
    expect(await until(async () => (await downstreamDifferences()).length === 0, 30_000)).toBe(true);
  } finally {
    for (const c of consumers) await c.stop();
  }
}, 120_000);

afterAll(async () => {
  await w?.cleanup();
});

async function until(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const cli = (args: string[], env: Record<string, string> = {}) => runReconcilerCli(w, args, env);

const q = async <T extends RowDataPacket>(user: number, sql: string, params: unknown[]) => (await w.sharded.poolFor(user).query<T[]>(sql, params))[0];

const SHARD_TABLE: Record<Name, { table: string; column: string }> = {
  following: { table: "following_counts", column: "following_count" },
  follower: { table: "follower_counts", column: "follower_count" },
};
const USER_COLUMNS: Record<Name, { value: string; version: string }> = {
  following: { value: "follow_count", version: "follow_count_version" },
  follower: { value: "follower_count", version: "follower_count_version" },
};

interface Versioned {
  value: number;
  version: number;
}

async function shardCount(user: number, name: Name): Promise<Versioned | undefined> {
  const t = SHARD_TABLE[name];
  const [r] = await q(user, `SELECT ${t.column} AS value, version FROM ${t.table} WHERE user_id = ?`, [user]);
  return r ? { value: Number(r.value), version: Number(r.version) } : undefined;
}

async function counterRow(user: number, name: Name): Promise<Versioned | undefined> {
  const [r] = await q(user, "SELECT value, version FROM counters WHERE entity_id = ? AND entity_type = 'user' AND name = ?", [user, name]);
  return r ? { value: Number(r.value), version: Number(r.version) } : undefined;
}

async function profileCount(user: number, name: Name): Promise<Versioned> {
  const c = USER_COLUMNS[name];
  const [r] = await q(user, `SELECT ${c.value} AS value, ${c.version} AS version FROM users WHERE id = ?`, [user]);
  return { value: Number(r!.value), version: Number(r!.version) };
}

/** Every user whose counters row or users columns disagree with the shards' count. */
async function downstreamDifferences(): Promise<string[]> {
  const out: string[] = [];
  for (const user of model.users) {
    for (const name of NAMES) {
      const want = (await shardCount(user, name))?.value ?? 0;
      const counter = (await counterRow(user, name))?.value ?? 0;
      const profile = (await profileCount(user, name)).value;
      if (counter !== want) out.push(`counters ${name} of ${user}: ${counter}, shards ${want}`);
      if (profile !== want) out.push(`users ${name} of ${user}: ${profile}, shards ${want}`);
    }
  }
  return out;
}

/** Users with a nonzero count of `name` on the shards, in model order. */
function usersWith(name: Name): number[] {
  const counts = name === "following" ? model.followingCounts() : model.followerCounts();
  return model.users.filter((u) => (counts.get(u) ?? 0) > 0);
}

const counterCache = () => new CounterCache(w.admin, { ...COUNT_CACHE_DEFAULTS, keyPrefix: countPrefix });
const key = (user: number, name: Name) => ({ entityType: "user", entityId: user, name });
const profileKey = (user: number) => `${userPrefix}profile:{${user}}`;

describe("counts downstream of the shards", () => {
  it("reads the shards' count for a user whose counter row was never written", async () => {
    const user = usersWith("following")[0]!;
    const want = (await shardCount(user, "following"))!.value;
    expect(want).toBeGreaterThan(0);
    await q(user, "DELETE FROM counters WHERE entity_id = ? AND entity_type = 'user'", [user]);
    const cache = counterCache();
    for (const name of ["following", "follower"] as const) {
      const slot = cache.locate(key(user, name));
      await w.admin.hdel(slot.key, slot.field);
    }

    const svc = await startCountService(
      loadCountConfig(
        w.env({
          ETCD_ENDPOINTS: infra().etcdEndpoints.join(","),
          GRPC_PORT: "0",
          GRPC_HOST: "127.0.0.1",
          SERVICE_NAME: `count-test-${randomBytes(4).toString("hex")}`,
        }),
      ),
      { logger },
    );
    try {
      const [counts] = await svc.internals.reads.getUserCounts([user]);
      expect(counts!.followingCount).toBe(want);
      expect(counts!.followerCount).toBe((await shardCount(user, "follower"))?.value ?? 0);
      // What went into the cache is the shards' count too.
      expect(await cache.getMany([key(user, "following")])).toEqual([want]);
    } finally {
      await svc.stop();
    }
    // The reconciler writes the missing row (the count store is repaired, not only answered around).
    const fix = await cli(["--checks", "counters", "--grace-ms", "0"]);
    expect(fix.stderr).toBe("");
    expect(fix.code).toBe(0);
    expect((await counterRow(user, "following"))?.value).toBe(want);
  }, 60_000);

  it("reports count-store and profile divergence in a dry run, and repairs it with newer versions and fresh caches", async () => {
    const [, a, , d] = usersWith("following");
    const [, b, c] = usersWith("follower");
    // a: the counter holds a wrong value at the shards' version, and the cache serves it.
    await q(a!, "UPDATE counters SET value = value + 3 WHERE entity_id = ? AND entity_type = 'user' AND name = 'following'", [a]);
    const cache = counterCache();
    await cache.set([{ key: key(a!, "following"), value: 1_000 }]);
    // b: the counter row was lost.
    await q(b!, "DELETE FROM counters WHERE entity_id = ? AND entity_type = 'user' AND name = 'follower'", [b]);
    // c: the profile missed the last count.changed (an older version), and the profile cache serves the stale value.
    await q(c!, "UPDATE users SET follower_count = follower_count + 7, follower_count_version = follower_count_version - 1 WHERE id = ?", [c]);
    const [crow] = await q(c!, "SELECT revision FROM users WHERE id = ?", [c]);
    await w.admin.set(profileKey(c!), `P${Number(crow!.revision)}|stale`, "EX", 600);
    // d: the profile holds a wrong value with a version ahead of the shards' (a plain write at that version would be ignored).
    await q(d!, "UPDATE users SET follow_count = follow_count + 1, follow_count_version = ? WHERE id = ?", [FAR_AHEAD, d]);

    const dry = await cli(["--dry-run", "--grace-ms", "0", "--checks", "counters,profiles"]);
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(2);
    for (const line of [
      "found following_counter_wrong: 1",
      "found follower_counter_wrong: 1",
      "found profile_follower_wrong: 1",
      "found profile_following_wrong: 1",
    ]) {
      expect(dry.stdout).toContain(line);
    }
    expect((await downstreamDifferences()).length).toBe(4);

    const fix = await cli(["--grace-ms", "0", "--batch-rows", "4"]);
    expect(fix.stderr).toBe("");
    expect(fix.code).toBe(0);
    expect(fix.stdout).toContain("found profile_following_wrong: 1, fixed 1");
    expect(await downstreamDifferences()).toEqual([]);
    // The caches no longer serve the wrong values.
    expect(await cache.getMany([key(a!, "following")])).toEqual([(await shardCount(a!, "following"))!.value]);
    expect(await w.admin.get(profileKey(c!))).not.toMatch(/^P/);
    // d: the shards' count moved to a version above the profile's, and the profile took it.
    const dShard = (await shardCount(d!, "following"))!;
    expect(dShard.version).toBeGreaterThan(FAR_AHEAD);
    expect(await profileCount(d!, "following")).toEqual(dShard);

    const clean = await cli(["--dry-run", "--json", "--grace-ms", "0"]);
    expect(clean.code).toBe(0);
    const report = JSON.parse(clean.stdout) as { found: Record<string, number> };
    expect(Object.values(report.found).every((n) => n === 0)).toBe(true);
  }, 90_000);

  it("repairs a store that is behind with the shards' own version, so the next count.changed still applies", async () => {
    const user = usersWith("follower")[4]!;
    const shard = (await shardCount(user, "follower"))!;
    // The counter missed the last count.changed: an older version with another value.
    await q(user, "UPDATE counters SET value = ?, version = ? WHERE entity_id = ? AND entity_type = 'user' AND name = 'follower'", [
      shard.value + 2,
      shard.version - 1,
      user,
    ]);
    const fix = await cli(["--grace-ms", "0", "--checks", "counters"]);
    expect(fix.stderr).toBe("");
    expect(fix.code).toBe(0);
    // Not a version of its own making: the shards' count row is unchanged and the counter holds exactly it, so the
    // persister's next change of this count (version above the shards' row) is newer than the repair.
    expect(await shardCount(user, "follower")).toEqual(shard);
    expect(await counterRow(user, "follower")).toEqual(shard);
  }, 60_000);

  it("a repair whose count.changed publish fails still reaches the count store and the profiles", async () => {
    const user = usersWith("following")[5]!;
    const want = (await shardCount(user, "following"))!.value;
    // A count moved wrongly everywhere (as if a wrong count had been published and applied).
    await q(user, "UPDATE following_counts SET following_count = 999 WHERE user_id = ?", [user]);
    await q(user, "UPDATE counters SET value = 999 WHERE entity_id = ? AND entity_type = 'user' AND name = 'following'", [user]);
    await q(user, "UPDATE users SET follow_count = 999 WHERE id = ?", [user]);
    // count.changed cannot be published: the topic is gone (the broker refuses every record).
    const run = await cli(["--grace-ms", "0", "--checks", "counts"], { COUNT_CHANGED_TOPIC: `test.no-such-topic.${randomBytes(4).toString("hex")}` });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("count.changed not published for 1 counts");
    expect((await shardCount(user, "following"))!.value).toBe(want);
    expect((await counterRow(user, "following"))!.value).toBe(want);
    expect((await profileCount(user, "following")).value).toBe(want);
  }, 90_000);

  it("--rebuild-counts rebuilds the count store and the profile counters from the shards, and is safe to run again", async () => {
    await w.sharded.forEachShard(async (pool) => {
      await pool.query("DELETE FROM counters");
      await pool.query("UPDATE users SET follow_count = 0, follower_count = 0, follow_count_version = 0, follower_count_version = 0");
    });
    expect((await downstreamDifferences()).length).toBeGreaterThan(10);

    const rebuild = await cli(["--rebuild-counts", "--batch-rows", "4"]);
    expect(rebuild.code).toBe(0);
    expect(rebuild.stderr).toMatch(/rebuild counters following shard 0: through user \d+/);
    expect(rebuild.stderr).toMatch(/rebuild profiles follower shard 1: through user \d+/);
    expect(await downstreamDifferences()).toEqual([]);
    // Every counter the shards have is in the count store, with the shards' version.
    for (const user of model.users) {
      for (const name of NAMES) {
        const shard = await shardCount(user, name);
        if (shard && shard.value > 0) expect(await counterRow(user, name)).toEqual(shard);
      }
    }

    const again = await cli(["--rebuild-counts", "--json"]);
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout) as { fixed: Record<string, number> };
    expect(Object.values(report.fixed).every((n) => n === 0)).toBe(true);
  }, 90_000);
});
