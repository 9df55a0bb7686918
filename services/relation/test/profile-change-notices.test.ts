import { describe, expect, it } from "vitest";
import { subscriberUrl } from "../src/adapters/redis/profile-change-notices.js";

describe("the profile change subscriber's Redis", () => {
  it("is REDIS_URL for a single Redis, and the first node of a Cluster as a plain URL with the cluster's credentials", () => {
    expect(subscriberUrl("redis://127.0.0.1:6379/0")).toBe("redis://127.0.0.1:6379/0");
    expect(subscriberUrl("redis-cluster://10.0.0.1:7000,10.0.0.2:7001")).toBe("redis://10.0.0.1:7000");
    expect(subscriberUrl("redis-cluster://app:p%40ss@10.0.0.1:7000,10.0.0.2:7001")).toBe("redis://app:p%40ss@10.0.0.1:7000");
    expect(subscriberUrl("redis-cluster://:secret@h:7000")).toBe("redis://:secret@h:7000");
  });
});
