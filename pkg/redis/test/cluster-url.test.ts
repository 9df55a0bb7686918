import { describe, expect, it } from "vitest";
import { parseRedisClusterUrl } from "../src/index.js";

describe("parseRedisClusterUrl", () => {
  it("leaves a single-node URL alone", () => {
    expect(parseRedisClusterUrl("redis://127.0.0.1:6379")).toBeUndefined();
  });
  it("reads seed nodes and credentials", () => {
    expect(parseRedisClusterUrl("redis-cluster://10.0.0.1:7000,10.0.0.2:7001")).toEqual({
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
      ],
    });
    expect(parseRedisClusterUrl("redis-cluster://app:p%40ss@redis-0:6379/")).toEqual({
      nodes: [{ host: "redis-0", port: 6379 }],
      username: "app",
      password: "p@ss",
    });
    expect(parseRedisClusterUrl("redis-cluster://:secret@redis-0:6379")).toEqual({ nodes: [{ host: "redis-0", port: 6379 }], password: "secret" });
  });
  it("refuses a node without a port", () => {
    expect(() => parseRedisClusterUrl("redis-cluster://redis-0")).toThrow(/host:port/);
  });
});
