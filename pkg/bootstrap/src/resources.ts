import { ShardedMysql, type MysqlSettings } from "@rs/mysql";
import { closeRedis, createRedis, waitForRedisReady, type RedisClient } from "@rs/redis";
import type { ProcessContext } from "./process-types.js";

/**
 * Opens the sharded MySQL pools and registers their close on the lifecycle, so
 * every process closes them last, after it stopped serving.
 */
export function openShardedMysql(ctx: ProcessContext, settings: MysqlSettings): ShardedMysql {
  const mysql = ShardedMysql.fromConfig(settings, ctx.logger);
  ctx.lifecycle.add("close mysql pools", () => mysql.close());
  return mysql;
}

/**
 * Connects to Redis, registers its close on the lifecycle and waits until it
 * answers (commands fail fast before that, see @rs/redis).
 */
export async function openRedis(ctx: ProcessContext, url: string, name: string, readyTimeoutMs?: number): Promise<RedisClient> {
  const redis = createRedis(url, { logger: ctx.logger, name });
  ctx.lifecycle.add("close redis", () => closeRedis(redis));
  await waitForRedisReady(redis, readyTimeoutMs);
  return redis;
}
