/**
 * The relation's subscriber of profile change notices against a real Redis
 * (and, in the integration-cluster project, a real Redis Cluster): notices
 * reach it while subscribed, and losing its connection is reported as a
 * reset, after which it subscribes again by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { metricsRegistry } from "@rs/runtime";
import { Cluster } from "ioredis";
import { type RedisClient } from "@rs/redis";
import { infra } from "../../../test/infra.js";
import { registrySamples, sampleSum } from "../../../test/support/prometheus-text.js";
import { waitFor } from "../../../test/support/wait-for.js";
import { RedisProfileChangeNotices } from "../src/adapters/redis/profile-change-notices.js";
import { redisFixture, type RedisFixture } from "./redis-fixture.js";

const logger = createLogger("profile-notices-test", process.env.TEST_LOG_LEVEL ?? "silent");

let fx: RedisFixture;
let publisher: RedisClient;
let notices: RedisProfileChangeNotices;
let channel: string;
let connectionName: string;
const changed: number[] = [];
let resets = 0;
const liveAtReset: boolean[] = [];

beforeAll(async () => {
  fx = redisFixture();
  publisher = fx.client();
  channel = `${fx.prefix}profile-changes`;
  connectionName = `notices-${fx.prefix.replace(/[^\w]/g, "_")}`;
  notices = new RedisProfileChangeNotices(infra().redisUrl, channel, logger, connectionName);
  notices.onChange((id) => changed.push(id));
  notices.onReset(() => {
    resets++;
    liveAtReset.push(notices.live);
  });
  await waitFor("subscribed", () => notices.live);
});

afterAll(async () => {
  await notices?.close();
  await fx?.cleanup();
});

const metric = async (name: string, labels: Record<string, string> = {}) => sampleSum(await registrySamples(metricsRegistry), name, labels);

/** Kills this test's subscriber connection on every node it may be on, as a network fault or a Redis restart would. */
async function killSubscriber(): Promise<number> {
  let killed = 0;
  for (const node of publisher instanceof Cluster ? publisher.nodes("all") : [publisher]) {
    const list = (await node.client("LIST")) as string;
    for (const line of list.split("\n")) {
      const id = /^id=(\d+) /.exec(line)?.[1];
      if (id && line.includes(` name=${connectionName} `)) killed += Number(await node.client("KILL", "ID", id));
    }
  }
  return killed;
}

describe("profile change notices", () => {
  it("pass on the user ids published on the channel, and ignore anything else", async () => {
    await publisher.publish(channel, "4242424242");
    await publisher.publish(channel, "not-a-user");
    await publisher.publish(`${channel}-other`, "77");
    await publisher.publish(channel, "4343434343");
    await waitFor("both notices", () => changed.includes(4242424242) && changed.includes(4343434343));
    expect(changed.filter((id) => id !== 4242424242 && id !== 4343434343)).toEqual([]);
  });

  it("report a lost connection as a reset, are not live until subscribed again, and then pass notices on again", async () => {
    const before = resets;
    const resetsCounted = await metric("relation_profile_change_notices_total", { event: "reset" });
    expect(await metric("relation_profile_change_notices_live")).toBe(1);
    expect(await killSubscriber()).toBeGreaterThan(0);
    await waitFor("the reset", () => resets > before);
    expect(liveAtReset.at(-1)).toBe(false);
    expect(await metric("relation_profile_change_notices_total", { event: "reset" })).toBeGreaterThan(resetsCounted);
    await waitFor("subscribed again", () => notices.live);
    expect(await metric("relation_profile_change_notices_live")).toBe(1);
    changed.length = 0;
    await publisher.publish(channel, "4444444444");
    await waitFor("a notice after the reconnect", () => changed.includes(4444444444));
  });
});
