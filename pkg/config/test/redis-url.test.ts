import { describe, expect, it } from "vitest";
import { redisUrl } from "../src/fields.js";

describe("REDIS_URL field", () => {
  it("accepts one Redis or a cluster's seed nodes", () => {
    for (const v of [
      "redis://127.0.0.1:6379",
      "rediss://:pw@redis:6380/0",
      "redis-cluster://10.0.0.1:7000,10.0.0.2:7001",
      "redis-cluster://app:pw@redis-0:6379",
    ]) {
      expect(redisUrl().safeParse(v).success, v).toBe(true);
    }
  });
  it("refuses anything else", () => {
    for (const v of ["http://redis:6379", "redis-cluster://redis-0", "redis-cluster://a:1,,b:2", "127.0.0.1:6379"]) {
      expect(redisUrl().safeParse(v).success, v).toBe(false);
    }
  });
});
