/**
 * Register writes two shards (the username's, then the user's) without a
 * distributed transaction. These cases break it half-way, against the real
 * shards, and check that no half-written account is ever usable and that the
 * name is not lost for good.
 */
import { status } from "@grpc/grpc-js";
import { hashPassword, RevocationStore, TokenIssuer, TokenVerifier } from "@rs/auth";
import { redisFromUrl, type RedisClient } from "@rs/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../src/domain/account.service.js";
import type { UserStore } from "../src/domain/ports.js";
import type { RunningUserService } from "../src/user.process.js";
import { codeOf, logger, TEST_JWT_SECRET, uniqueName, userFixture, type UserFixture } from "./user-fixture.js";

const GRACE_MS = 30_000;
const COST = 4;
const password = "repair-pass";

let fx: UserFixture;
let svc: RunningUserService;
let redis: RedisClient;

beforeAll(async () => {
  fx = await userFixture({ USERNAME_CLAIM_GRACE_SECONDS: String(GRACE_MS / 1000) });
  svc = await fx.start();
  redis = redisFromUrl(fx.env.REDIS_URL!);
});

afterAll(async () => {
  redis?.disconnect();
  await fx?.cleanup();
});

/** The service's account use case over a store whose methods `patch` may replace. */
async function accountsWith(patch: (real: UserStore) => Partial<UserStore>): Promise<AccountService> {
  const real = svc.internals.store;
  const store: UserStore = Object.assign(Object.create(real) as UserStore, patch(real));
  const jwt = {
    JWT_ALGORITHM: "HS256" as const,
    JWT_SECRET: TEST_JWT_SECRET,
    JWT_ISSUER: "relation-suite",
    JWT_AUDIENCE: "relation-suite-apps",
    JWT_TTL_SECONDS: 600,
    JWT_CLOCK_TOLERANCE_SECONDS: 5,
  };
  const revocations = new RevocationStore(redis, { keyPrefix: fx.env.TOKEN_REVOCATION_PREFIX });
  return new AccountService({
    store,
    cache: svc.internals.cache,
    existence: svc.internals.existence,
    ids: svc.internals.ids,
    issuer: TokenIssuer.fromConfig(jwt),
    verifier: TokenVerifier.fromConfig(jwt, { revocations }),
    revocations,
    bcryptCost: COST,
    decoyHash: await hashPassword("decoy-password", COST),
    claimGraceMs: GRACE_MS,
    logger,
  });
}

/** A claim as a crashed register leaves it: pending, pointing at a user row that was never written. */
async function abandonedClaim(username: string, ageMs: number): Promise<void> {
  const ok = await svc.internals.store.claimUsername(username, 4_242_424_242, Date.now() - ageMs);
  expect(ok).toBe(true);
}

describe("register across two shards", () => {
  it("releases the username claim when the user row cannot be written", async () => {
    const name = uniqueName("insertfails");
    const failing = await accountsWith(() => ({ insertUser: () => Promise.reject(new Error("shard went away")) }));
    await expect(failing.register(name, password)).rejects.toThrow("shard went away");
    expect(await fx.rows("usernames", "username = ?", [name])).toEqual([]);
    expect(await fx.rows("users", "username = ?", [name])).toEqual([]);
    // The name is free again at once.
    const client = fx.client();
    expect((await client.register({ username: name, password })).userId).toBeGreaterThan(0);
  });

  it("a crash between claim and insert blocks the name only until the grace period ends", async () => {
    const client = fx.client();
    const fresh = uniqueName("crashfresh");
    await abandonedClaim(fresh, 1_000);
    expect(await codeOf(client.register({ username: fresh, password }))).toBe(status.ALREADY_EXISTS);
    // A pending claim is not an account: nobody can log in with it.
    expect(await codeOf(client.login({ username: fresh, password }))).toBe(status.UNAUTHENTICATED);

    const old = uniqueName("crashold");
    await abandonedClaim(old, GRACE_MS + 1_000);
    const { userId } = await client.register({ username: old, password });
    expect((await fx.rows("usernames", "username = ?", [old])).map((r) => [Number(r.user_id), Number(r.state)])).toEqual([[userId, 1]]);
    expect((await client.login({ username: old, password })).userId).toBe(userId);
  });

  it("a register whose claim was taken over while it was slow removes its own row and fails", async () => {
    const name = uniqueName("slow");
    let rival = 0;
    const slow = await accountsWith((real) => ({
      // While this register inserts, another one decides the claim was abandoned and takes the name.
      insertUser: async (user) => {
        await fx.dbs.admin.query(`UPDATE \`${fx.dbs.names[0]}\`.usernames SET claimed_at = 0 WHERE username = ?`, [name]);
        await fx.dbs.admin.query(`UPDATE \`${fx.dbs.names[1]}\`.usernames SET claimed_at = 0 WHERE username = ?`, [name]);
        const session = await (await accountsWith(() => ({}))).register(name, "rival-pass");
        rival = session.userId;
        await real.insertUser(user);
      },
    }));
    expect(await codeOf(slow.register(name, password))).toBe(status.ALREADY_EXISTS);
    const users = await fx.rows("users", "username = ?", [name]);
    expect(users.map((u) => Number(u.id))).toEqual([rival]);
    const client = fx.client();
    expect((await client.login({ username: name, password: "rival-pass" })).userId).toBe(rival);
    expect(await codeOf(client.login({ username: name, password }))).toBe(status.UNAUTHENTICATED);
  });

  it("login ignores a confirmed name whose user row is missing", async () => {
    const name = uniqueName("norow");
    const store = svc.internals.store;
    await store.claimUsername(name, 4_343_434_343, Date.now());
    expect(await store.confirmClaim(name, 4_343_434_343)).toBe(true);
    expect(await store.findLogin(name)).toBeUndefined();
    expect(await codeOf(fx.client().login({ username: name, password }))).toBe(status.UNAUTHENTICATED);
  });
});
