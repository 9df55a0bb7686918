/**
 * Connection settings of the real servers the integration tests talk to: the
 * local stack's defaults (deploy/stack/settings.ts), overridden by the
 * environment when it names them.
 */
import { infraEnv } from "../deploy/stack/settings.js";

export function infra(): { mysqlShardDsns: string[]; redisUrl: string; etcdEndpoints: string[]; kafkaBrokers: string[] } {
  const defaults = infraEnv();
  const get = (k: string) => process.env[k] || defaults[k]!;
  return {
    mysqlShardDsns: get("MYSQL_SHARD_DSNS").split(","),
    redisUrl: get("REDIS_URL"),
    etcdEndpoints: get("ETCD_ENDPOINTS").split(","),
    kafkaBrokers: get("KAFKA_BROKERS").split(","),
  };
}
