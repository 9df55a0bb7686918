/**
 * The persister against the real servers: a random follow graph published as
 * transitions ends up exactly in both edge tables and the counts; the pending
 * overlay is compare-and-deleted; count.changed carries the committed counts;
 * and replaying the whole topic from offset 0 (a new consumer group) changes no
 * row and no count, and publishes no new count version.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodePending } from "../src/domain/relation-transition.js";
import { waitForNoLag } from "../../../test/support/wait-for.js";
import { startPersister } from "../src/persister/persister.process.js";
import {
  createPipelineWorld,
  GraphModel,
  logger,
  readCounts,
  snapshot,
  waitForConvergence,
  type CountsReader,
  type PipelineWorld,
} from "./persister-fixture.js";

const USERS = 60;
const TRANSITIONS = 3_000;
const CONVERGE_MS = 45_000;

let w: PipelineWorld;
let counts: CountsReader;

beforeAll(async () => {
  w = await createPipelineWorld("replay");
  counts = await readCounts(w);
});

afterAll(async () => {
  await counts?.stop();
  await w?.cleanup();
});

/** The newest count.changed value per (user, name) among `list`. */
function newest(list: CountsReader["records"]) {
  const m = new Map<string, { value: number; version: number }>();
  for (const c of list) {
    const k = `${c.userId}:${c.name}`;
    if ((m.get(k)?.version ?? -1) < c.version) m.set(k, { value: c.value, version: c.version });
  }
  return m;
}

describe("relation-persister", () => {
  const model = new GraphModel(USERS);

  it("persists every transition exactly, clears the pending overlay by version and publishes the counts", async () => {
    const events = model.transitions(TRANSITIONS);
    // The overlay as the relation service leaves it: the newest transition of a
    // few edges (to be cleared), and one newer than anything published (to stay).
    const last = new Map(events.map((e) => [`${e.from}:${e.to}`, e]));
    const seeded = [...last.values()].slice(0, 20);
    for (const e of seeded) {
      await w.admin.hset(
        `${w.redis.prefix}pending:{${e.from}}`,
        String(e.to),
        encodePending({ action: e.action, version: e.version, timeMs: e.occurredAtMs, source: e.source, prevTimeMs: 0 }),
      );
    }
    const keep = seeded[0]!;
    await w.admin.hset(
      `${w.redis.prefix}pending:{${keep.from}}`,
      String(keep.to),
      encodePending({
        action: keep.action === "follow" ? "unfollow" : "follow",
        version: keep.version + 1,
        timeMs: keep.occurredAtMs,
        source: 1,
        prevTimeMs: 0,
      }),
    );

    await w.produce(events);
    const p = await startPersister(w.config({ PERSIST_CHUNK_EVENTS: "250" }), { logger });
    try {
      expect(await waitForConvergence(w.sharded, model, CONVERGE_MS)).toEqual([]);
      // the offsets of the last batch are committed only after its Redis steps and count.changed
      await waitForNoLag(() => p.internals.consumer.readLag(), CONVERGE_MS);
    } finally {
      await p.stop();
    }

    for (const e of seeded.slice(1)) expect(await w.admin.hexists(`${w.redis.prefix}pending:{${e.from}}`, String(e.to))).toBe(0);
    expect(await w.admin.hexists(`${w.redis.prefix}pending:{${keep.from}}`, String(keep.to))).toBe(1);

    // count.changed: the newest version of every count is the committed count.
    const s = await snapshot(w.sharded);
    await counts.caughtUp();
    const published = newest(counts.records);
    for (const [user, v] of s.following) expect(published.get(`${user}:following`), `following of ${user}`).toEqual(parse(v));
    for (const [user, v] of s.follower) expect(published.get(`${user}:follower`), `follower of ${user}`).toEqual(parse(v));
  });

  it("replaying the whole topic from offset 0 changes no row, no count and no count version", async () => {
    const before = await snapshot(w.sharded);
    const publishedBefore = counts.records.length;
    const maxVersionBefore = newest(counts.records);
    // A new group starts at offset 0 and reads everything again.
    const p = await startPersister(w.config({ PERSISTER_GROUP: w.group("replayer"), PERSIST_CHUNK_EVENTS: "100" }), { logger });
    try {
      await waitForNoLag(() => p.internals.consumer.readLag(), CONVERGE_MS);
    } finally {
      await p.stop();
    }
    const after = await snapshot(w.sharded);
    expect(after.follows).toEqual(before.follows);
    expect(after.fans).toEqual(before.fans);
    expect(after.following).toEqual(before.following);
    expect(after.follower).toEqual(before.follower);
    expect(after.follows.size).toBeGreaterThan(0);

    // The replay re-published current counts (a lost publish is repaired this way), never a new version;
    // its offsets were committed after its count.changed were acknowledged, so all of them are in the topic.
    await counts.caughtUp();
    const replayed = counts.records.slice(publishedBefore);
    expect(replayed.length).toBeGreaterThan(0);
    for (const c of replayed) expect(c.version).toBeLessThanOrEqual(maxVersionBefore.get(`${c.userId}:${c.name}`)!.version);
    expect(newest(counts.records)).toEqual(maxVersionBefore);
  });
});

function parse(v: string) {
  const [value, version] = v.split("|").map(Number);
  return { value, version };
}
