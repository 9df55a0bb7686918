/**
 * The user service with its own redis-server, killed and restarted empty:
 * reads and logins go on from the shards, what needs Redis answers
 * UNAVAILABLE (never a wrong answer), /readyz says so, and after the restart the
 * existence filter is rebuilt and every call works again.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { privateRedis, type PrivateRedis } from "../../../test/support/private-redis.js";
import type { RunningUserService } from "../src/user.process.js";
import { codeOf, uniqueName, userFixture, waitFor, type UserFixture } from "./user-fixture.js";

let redis: PrivateRedis;
let fx: UserFixture;
let svc: RunningUserService;
const password = "outage-pass";

beforeAll(async () => {
  redis = await privateRedis();
  fx = await userFixture({ REDIS_URL: redis.url });
  svc = await fx.start();
});

afterAll(async () => {
  await fx?.cleanup();
  await redis?.destroy();
});

const readiness = async () => {
  const res = await fetch(`http://127.0.0.1:${svc.adminPort}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks: { name: string; ok: boolean }[] } };
};

describe("when Redis goes away", () => {
  it("serves profiles and logins from the shards, refuses what needs Redis, and recovers", async () => {
    const client = fx.client();
    const name = uniqueName("outage");
    const { userId, token } = await client.register({ username: name, password });
    await client.getUser({ userId });

    await redis.kill();
    expect((await client.getUser({ userId })).user?.name).toBe(name);
    expect((await client.batchGetUsers({ userIds: [userId, 424_242_424_242], skipProcessCache: false })).missingUserIds).toEqual([424_242_424_242]);
    expect((await client.userExists({ userId })).exists).toBe(true); // no filter to trust: the shard answers
    expect((await client.login({ username: name, password })).userId).toBe(userId);
    // A register must add to the filter and a revocation check must ask Redis: neither may guess.
    expect(await codeOf(client.register({ username: uniqueName("during"), password }))).toBe(status.UNAVAILABLE);
    expect(await codeOf(client.verifyToken({ token }))).toBe(status.UNAVAILABLE);
    expect(await codeOf(client.logout({ token }))).toBe(status.UNAVAILABLE);
    const down = await readiness();
    expect(down.status).toBe(503);
    expect(down.body.checks.find((c) => c.name === "redis")?.ok).toBe(false);

    await redis.start(); // empty: the filter, the cache and the revocations are gone
    await waitFor("ready again", async () => (await readiness()).status === 200, 20_000);
    expect((await client.userExists({ userId })).exists).toBe(true);
    await waitFor("the filter rebuilt", async () => (await svc.internals.existence.mightExist([userId])) !== undefined, 20_000);
    expect(await svc.internals.existence.mightExist([userId])).toEqual([true]);
    const again = await client.register({ username: uniqueName("after"), password });
    expect((await client.userExists({ userId: again.userId })).exists).toBe(true);
    expect((await client.verifyToken({ token })).userId).toBe(userId);
  });
});
