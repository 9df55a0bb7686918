/**
 * The persister against a MariaDB that stops answering (a fault proxy in front
 * of the real server, stalled): the batch in flight is abandoned within its
 * budget instead of holding the partition forever, nothing is committed,
 * /readyz reports the consumer (and the shards) not ready; once the proxy
 * heals, the batch is delivered again and the stores end up exactly as the
 * published transitions say, counts included, and /readyz is ready again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy, type FaultProxy } from "../../../test/support/fault-proxy.js";
import { dsnTarget, dsnThrough } from "../../../test/support/proxied-dsn.js";
import { startPersister } from "../src/persister/persister.process.js";
import { createPipelineWorld, GraphModel, logger, waitForConvergence, type PipelineWorld } from "./persister-fixture.js";

const BATCH_TIMEOUT_MS = 2_000;
/** Longer than the budget, so the budget (not a failing statement) ends the stalled batch. */
const QUERY_TIMEOUT_MS = 6_000;
const CONNECT_TIMEOUT_MS = 1_000;
const SLACK_MS = 8_000;
const CONVERGE_MS = 60_000;

let w: PipelineWorld;
let proxy: FaultProxy;

beforeAll(async () => {
  w = await createPipelineWorld("stall");
  proxy = await startFaultProxy(dsnTarget(w.dbs.dsns[0]!));
});

afterAll(async () => {
  proxy?.heal();
  await proxy?.close();
  await w?.cleanup();
});

interface Readiness {
  readonly status: number;
  readonly failing: readonly string[];
  readonly text: string;
}

async function readiness(adminPort: number): Promise<Readiness> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { checks: { name: string; ok: boolean; error?: string }[] };
  return { status: res.status, failing: body.checks.filter((c) => !c.ok).map((c) => c.name), text: JSON.stringify(body) };
}

async function pollReadiness(adminPort: number, what: string, cond: (r: Readiness) => boolean, timeoutMs: number): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs;
  let last: Readiness | undefined;
  for (;;) {
    last = await readiness(adminPort).catch(() => undefined);
    if (last && cond(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last /readyz: ${last?.text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function committedTotal(group: string): Promise<number> {
  const [offsets] = await w.kafkaAdmin.fetchOffsets({ groupId: group, topics: [w.eventsTopic] });
  return (offsets?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
}

describe("relation-persister against a stalled MariaDB", () => {
  it("abandons the batch within its budget, reports not ready, and applies it exactly once after the heal", async () => {
    const config = w.config({
      MYSQL_SHARD_DSNS: w.dbs.dsns.map((dsn) => dsnThrough(proxy, dsn)).join(","),
      MYSQL_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      MYSQL_ACQUIRE_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      MYSQL_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      PERSIST_BATCH_TIMEOUT_MS: String(BATCH_TIMEOUT_MS),
      PERSIST_UNREADY_AFTER_FAILURES: "1",
      PERSIST_CHUNK_EVENTS: "50",
    });
    const persister = await startPersister(config, { logger });
    try {
      const model = new GraphModel(30);
      // warm up: the group has joined and pooled connections run through the proxy
      await w.produce(model.transitions(40));
      expect(await waitForConvergence(w.sharded, model, CONVERGE_MS)).toEqual([]);
      await pollReadiness(persister.adminPort, "ready before the stall", (r) => r.status === 200, 15_000);
      const committedBefore = await committedTotal(config.PERSISTER_GROUP);

      proxy.stall();
      const stalledAt = Date.now();
      const during = model.transitions(300);
      await w.produce(during);

      const unready = await pollReadiness(
        persister.adminPort,
        "the consumer to report its batch abandoned",
        (r) => r.status === 503 && r.failing.some((n) => n.startsWith("kafka-consumer")),
        BATCH_TIMEOUT_MS + SLACK_MS,
      );
      expect(unready.text).toMatch(/not handled within 2000ms/);
      expect(unready.failing).toContain("mysql-shards");
      expect(Date.now() - stalledAt).toBeLessThan(BATCH_TIMEOUT_MS + SLACK_MS);
      // nothing of the stalled batches was committed
      expect(await committedTotal(config.PERSISTER_GROUP)).toBe(committedBefore);

      proxy.heal();
      // redelivered and applied: the stores equal the model exactly (a second application would break the counts)
      expect(await waitForConvergence(w.sharded, model, CONVERGE_MS)).toEqual([]);
      await pollReadiness(persister.adminPort, "ready after the heal", (r) => r.status === 200, 30_000);
      const deadline = Date.now() + 30_000;
      while ((await committedTotal(config.PERSISTER_GROUP)) < committedBefore + during.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await committedTotal(config.PERSISTER_GROUP)).toBe(committedBefore + during.length);
    } finally {
      proxy.heal();
      await persister.stop();
    }
  });
});
