/** Numbers from a Redis server's INFO, for the benches' per-call accounting. */
import { createLogger } from "@rs/logger";
import { closeRedis, createRedis, waitForRedisReady } from "@rs/redis";

const logger = createLogger("bench-redis-info", "warn");

/** One numeric field of INFO `section` (e.g. `server`/`process_id`), or undefined when absent; one short-lived connection. */
export async function redisInfoNumber(url: string, section: string, field: string): Promise<number | undefined> {
  const redis = createRedis(url, { logger, name: "bench-redis-info" });
  try {
    await waitForRedisReady(redis);
    const value = new RegExp(`^${field}:([\\d.]+)`, "m").exec(await redis.info(section))?.[1];
    return value === undefined ? undefined : Number(value);
  } finally {
    await closeRedis(redis);
  }
}

/** The pid of the Redis server (on this machine), for its CPU per call. */
export const redisProcessId = (url: string) => redisInfoNumber(url, "server", "process_id");

/** Commands the server has processed since it started, the commands scripts run included. */
export const redisCommandsProcessed = async (url: string) => (await redisInfoNumber(url, "stats", "total_commands_processed")) ?? 0;
