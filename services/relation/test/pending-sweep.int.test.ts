/**
 * A transition that Redis recorded but whose reply never reached the relation
 * service (a stall longer than the command timeout, after the script ran) has
 * no event: nothing publishes it, nothing undoes it. The pending sweeper finds
 * it through the pending index and publishes it within seconds, with the very
 * version Redis holds (events are idempotent by version).
 *
 * The stall is made deterministic by a TCP proxy between the relation service
 * and the real Redis that lets requests through and holds the replies back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { relationV1 } from "@rs/idl";
import { scriptSources, type ScriptName } from "../src/adapters/redis/relation-scripts.js";
import { infra } from "../../../test/infra.js";
import { startFaultProxy, type FaultProxy } from "../../../test/support/fault-proxy.js";
import { createWorld, type RelationInstance, type World } from "./relation-harness.js";

const SWEEP_AFTER_MS = 1_000;
const EVENT_TIMEOUT_MS = 20_000;
const POLL_MS = 200;

let w: World;
let proxy: FaultProxy;
let relation: RelationInstance;

beforeAll(async () => {
  w = await createWorld("sweep");
  const redisUrl = new URL(infra().redisUrl);
  proxy = await startFaultProxy({ host: redisUrl.hostname, port: Number(redisUrl.port) });
  relation = await w.relation({
    REDIS_URL: `redis://${proxy.host}:${proxy.port}`,
    PENDING_SWEEP_AFTER_MS: String(SWEEP_AFTER_MS),
    PENDING_SWEEP_INTERVAL_MS: "200",
  });
}, 120_000);

afterAll(async () => {
  proxy?.heal();
  await w?.cleanup();
  await proxy?.close();
});

const scriptSha = (name: ScriptName) => createHash("sha1").update(scriptSources()[name]).digest("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventsOf(from: number, to: number): Promise<relationV1.RelationEvent[]> {
  return (await w.readEvents()).filter((e) => e.fromUserId === from && e.toUserId === to);
}

describe("the pending sweeper", () => {
  it("publishes a transition whose script ran in Redis while its reply was lost", async () => {
    const [a, b, c] = await w.registerUsers(3);
    // following:{a} loaded and one event out, through the proxy while it forwards
    expect(await relation.client.follow({ fromUserId: a!, toUserId: b!, source: 0 })).toMatchObject({ changed: true });

    // Hold replies from the decision script's request on: Redis runs it, the service never hears.
    proxy.stallRepliesFrom(scriptSha("applyTransition"));
    const stalled = relation.client.follow({ fromUserId: a!, toUserId: c!, source: 0 }).then(
      () => "answered",
      (err: unknown) => err,
    );
    // Redis ran the script (the request passed the proxy): the transition is pending.
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    let pending: string | null = null;
    while (Date.now() < deadline && !pending) {
      pending = await w.admin.hget(`${w.redis.prefix}pending:{${a}}`, String(c));
      if (!pending) await sleep(POLL_MS);
    }
    expect(pending, "the script did not run").toMatch(/^f\|/);
    const version = Number(pending!.split("|")[1]);
    // The client hears a failure (the command timed out), not "followed".
    expect(await stalled).not.toBe("answered");
    proxy.heal();

    // A retry now answers "already following": the event must come from the sweeper.
    expect(await relation.client.follow({ fromUserId: a!, toUserId: c!, source: 0 })).toMatchObject({ changed: false });
    let events: relationV1.RelationEvent[] = [];
    while (Date.now() < deadline) {
      events = await eventsOf(a!, c!);
      if (events.length > 0) break;
      await sleep(POLL_MS);
    }
    expect(events.map((e) => ({ action: e.action, version: e.version }))).toContainEqual({ action: relationV1.RelationEvent_Action.ACTION_FOLLOW, version });
  });
});
