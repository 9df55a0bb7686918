/**
 * What a benchmark leaves in the shared servers besides its databases: Redis
 * keys under its private prefix and etcd entries under its private prefix.
 */
import { createEtcd } from "@rs/discovery";
import type { Logger } from "@rs/logger";
import { closeRedis, createRedis, waitForRedisReady } from "@rs/redis";
import { infraEnv } from "../../deploy/stack/settings.js";
import { deleteKeysMatching } from "../../test/support/redis-keys.js";

/** Deletes every Redis key containing `keyPrefix` and every etcd key under `etcdPrefix`. */
export async function removeBenchState(keyPrefix: string, etcdPrefix: string, logger: Logger): Promise<void> {
  const infra = infraEnv();
  const redis = createRedis(infra.REDIS_URL!, { logger, name: "bench-cleanup" });
  await waitForRedisReady(redis);
  await deleteKeysMatching(redis, `*${keyPrefix}*`);
  await closeRedis(redis);
  const etcd = createEtcd(infra.ETCD_ENDPOINTS!.split(","));
  await etcd.delete().prefix(etcdPrefix);
  etcd.close();
}
