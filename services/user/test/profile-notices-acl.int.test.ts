/**
 * A profile cache invalidation by a Redis ACL user that may not publish on the
 * change notices' channel (Redis 7 gives new users no channels): the
 * invalidation is written all the same, only the notice is lost (ADR 28).
 * Single Redis only (an ACL user would have to exist on every Cluster node).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { infra } from "../../../test/infra.js";
import { RedisProfileCache } from "../src/adapters/redis/profile-cache.js";
import { encodeProfile } from "../src/adapters/redis/profile-entry.js";

const tag = randomBytes(5).toString("hex");
const user = `rs-test-no-channels-${tag}`;
const password = randomBytes(12).toString("hex");
const prefix = `rs:test:user-acl:${tag}:`;
let admin: Redis;
let limited: Redis;

beforeAll(async () => {
  admin = new Redis(infra().redisUrl);
  // every key and command of the suite, and no pub/sub channel
  await admin.call("ACL", "SETUSER", user, "on", `>${password}`, "~*", "+@all", "resetchannels");
  const url = new URL(infra().redisUrl);
  limited = new Redis({ host: url.hostname, port: Number(url.port), username: user, password });
});

afterAll(async () => {
  limited?.disconnect();
  await admin?.call("ACL", "DELUSER", user);
  if (admin) {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
  }
});

describe("profile change notices under a Redis ACL user without channels", () => {
  it("the invalidation is written, and only the notice is lost", async () => {
    // the user really may not publish
    await expect(limited.publish(`${prefix}profile-changes`, "1")).rejects.toThrow(/NOPERM/);
    const cache = new RedisProfileCache(limited, {
      keyPrefix: prefix,
      ttlSeconds: 60,
      ttlJitter: 0,
      negativeTtlSeconds: 60,
      changesChannel: `${prefix}profile-changes`,
    });
    const id = 4_242_424_242;
    const profile = { id, name: "n", avatar: "", backgroundImage: "", signature: "", followCount: 0, followerCount: 1 };
    await cache.fill([{ profile, revision: 3 }], []);
    expect(await admin.get(cache.key(id))).toBe(encodeProfile({ profile, revision: 3 }));
    await cache.invalidate(id, 4);
    expect(await admin.get(cache.key(id))).toBe("I4");
  });
});
