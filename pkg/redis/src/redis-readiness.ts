import { Cluster } from "ioredis";
import type { ReadinessCheck } from "@rs/runtime";
import type { RedisClient } from "./redis-client.js";

/**
 * A `/readyz` check that PINGs Redis. The client has no offline queue, so
 * while Redis is down the check fails at once instead of waiting for the
 * admin server's check timeout. On a Redis Cluster it PINGs every master the
 * client knows (a command may go to any of them), so one unreachable master
 * makes the process unready.
 */
export function redisReadiness(redis: RedisClient, name = "redis"): ReadinessCheck {
  return {
    name,
    async check() {
      const targets = redis instanceof Cluster ? redis.nodes("master") : [redis];
      if (targets.length === 0) throw new Error("redis cluster: no master known");
      for (const reply of await Promise.all(targets.map((t) => t.ping()))) {
        if (reply !== "PONG") throw new Error(`unexpected PING reply: ${reply}`);
      }
    },
  };
}
