import type { Redis } from "ioredis";
import type { ReadinessCheck } from "@rs/runtime";

/**
 * A `/readyz` check that PINGs Redis. The client has no offline queue, so
 * while Redis is down the check fails at once instead of waiting for the
 * admin server's check timeout.
 */
export function redisReadiness(redis: Redis, name = "redis"): ReadinessCheck {
  return {
    name,
    async check() {
      const reply = await redis.ping();
      if (reply !== "PONG") throw new Error(`unexpected PING reply: ${reply}`);
    },
  };
}
