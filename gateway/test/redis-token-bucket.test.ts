import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisTokenBucket, ipKey, userKey } from "../src/http/redis-token-bucket.js";

describe("rate limit keys", () => {
  it("IPv4 as is, IPv4-mapped IPv6 as IPv4", () => {
    expect(ipKey("203.0.113.7")).toBe("ip:203.0.113.7");
    expect(ipKey("::ffff:203.0.113.7")).toBe("ip:203.0.113.7");
    expect(ipKey("::FFFF:203.0.113.7")).toBe("ip:203.0.113.7");
  });

  it("IPv6 by /64, however the address is written", () => {
    const k = ipKey("2001:db8:85a3:1:aaaa:bbbb:cccc:dddd");
    expect(k).toBe("ip6:2001:db8:85a3:1::/64");
    expect(ipKey("2001:0db8:85a3:0001::1")).toBe(k);
    expect(ipKey("2001:DB8:85A3:1:ffff::")).toBe(k);
    expect(ipKey("2001:db8:85a3:2::1")).not.toBe(k);
    expect(ipKey("::1")).toBe("ip6:0:0:0:0::/64");
    expect(ipKey("fe80::1%eth0")).toBe("ip6:fe80:0:0:0::/64");
  });

  it("users and addresses never share a bucket", () => {
    expect(userKey("1")).toBe("user:1");
    expect(userKey("1")).not.toBe(ipKey("1"));
  });
});

describe("RedisTokenBucket settings", () => {
  const redis = new Redis({ lazyConnect: true });
  it.each([
    [{ capacity: 0, refillPerSecond: 1 }],
    [{ capacity: 1.5, refillPerSecond: 1 }],
    [{ capacity: 5, refillPerSecond: 0 }],
    [{ capacity: 5, refillPerSecond: Number.POSITIVE_INFINITY }],
  ])("refuses %j", (opts) => {
    expect(() => new RedisTokenBucket(redis, opts)).toThrow(RangeError);
  });

  it("refuses to take more than a full bucket", async () => {
    await expect(new RedisTokenBucket(redis, { capacity: 5, refillPerSecond: 1 }).take("k", 6)).rejects.toThrow(RangeError);
  });
});
