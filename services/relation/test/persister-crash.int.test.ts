/**
 * SIGKILL of a persister process in the middle of a batch, then a restart:
 * the stores converge to exactly the published graph, counts exact. The kill
 * is shown to have landed mid-batch: transitions past the committed offsets
 * were already in the shards (they are delivered again and must change
 * nothing the second time).
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RowDataPacket } from "@rs/mysql";
import type { EdgeEvent } from "../src/persister/edge-fold.js";
import { decodeRelationEvent } from "../src/adapters/kafka/relation-event.codec.js";
import { createPipelineWorld, GraphModel, sleep, waitForConvergence, type PipelineWorld } from "./persister-fixture.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const ENTRY = path.join(ROOT, "services/relation/src/persister.main.ts");
const USERS = 300;
const TRANSITIONS = 40_000;
const PRODUCE_CHUNK = 5_000;

let w: PipelineWorld;
const children: ChildProcess[] = [];

beforeAll(async () => {
  w = await createPipelineWorld("crash");
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await w?.cleanup();
});

function spawnPersister(): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...w.env({ PERSIST_CHUNK_EVENTS: "200", LOG_LEVEL: "warn" }) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.once("exit", (code, signal) => {
    if (code !== 0 && signal !== "SIGKILL") process.stderr.write(`persister child exited ${code ?? signal}: ${stderr}\n`);
  });
  children.push(child);
  return child;
}

async function followsRows(): Promise<number> {
  let n = 0;
  await w.sharded.forEachShard(async (pool) => {
    const [r] = await pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM follows");
    n += Number(r[0]!.n);
  });
  return n;
}

/** The transitions at or after the group's committed offsets (what a restart delivers again). */
async function uncommitted(group: string): Promise<EdgeEvent[]> {
  const [offsets] = await w.kafkaAdmin.fetchOffsets({ groupId: group, topics: [w.eventsTopic] });
  const committed = new Map((offsets?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  const topicOffsets = await w.kafkaAdmin.fetchTopicOffsets(w.eventsTopic);
  const expected = topicOffsets.reduce((a, p) => a + Number(p.high) - (committed.get(p.partition) ?? 0), 0);
  const out: EdgeEvent[] = [];
  const consumer = w.kafka.consumer({ groupId: w.group("inspect") });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: w.eventsTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (Number(message.offset) < (committed.get(partition) ?? 0)) return;
        const d = decodeRelationEvent(message.value);
        if (d.ok) out.push(d.event);
      },
    });
    const deadline = Date.now() + 30_000;
    while (out.length < expected && Date.now() < deadline) await sleep(100);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** How many of `events` the follows shards already hold (row version ≥ event version). */
async function alreadyPersisted(events: readonly EdgeEvent[]): Promise<number> {
  let n = 0;
  for (const e of events) {
    const [r] = await w.sharded.poolFor(e.from).query<RowDataPacket[]>("SELECT version FROM follows WHERE from_user_id = ? AND to_user_id = ?", [e.from, e.to]);
    if (r[0] && Number(r[0].version) >= e.version) n++;
  }
  return n;
}

describe("persister killed mid-batch", () => {
  it("converges after a restart, counts exact, no transition applied twice", async () => {
    const model = new GraphModel(USERS);
    for (let i = 0; i < TRANSITIONS; i += PRODUCE_CHUNK) await w.produce(model.transitions(PRODUCE_CHUNK));
    const edges = model.versions().size;

    const first = spawnPersister();
    const deadline = Date.now() + 60_000;
    // Kill once a good part is written but well before the end.
    while ((await followsRows()) < edges / 5) {
      if (Date.now() > deadline) throw new Error("the persister made no progress");
      await sleep(20);
    }
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const writtenAtKill = await followsRows();
    expect(writtenAtKill).toBeLessThan(edges);

    const again = await uncommitted(w.env().PERSISTER_GROUP!);
    const persistedBeyondCommit = await alreadyPersisted(again);
    // Work past the committed offsets was already in the shards: the kill hit a batch in progress.
    expect(persistedBeyondCommit).toBeGreaterThan(0);
    expect(again.length).toBeGreaterThan(persistedBeyondCommit);

    const second = spawnPersister();
    expect(await waitForConvergence(w.sharded, model, 90_000)).toEqual([]);
    second.kill("SIGTERM");
    const code = await new Promise((r) => second.once("exit", (c) => r(c)));
    expect(code).toBe(0);
  }, 180_000);
});
