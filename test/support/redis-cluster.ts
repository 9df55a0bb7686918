/**
 * A throwaway Redis Cluster on loopback owned by one test run: three masters
 * (no replicas), each a private redis-server (no persistence) in its own temp
 * dir, made one cluster by the local stack's own code
 * (deploy/stack/redis-cluster.ts: slots split in three, CLUSTER MEET, a
 * bounded wait for `cluster_state:ok`). Its ports are derived from the stack's
 * Redis port (RS_REDIS_PORT, moved by RS_PORT_OFFSET), never picked at random,
 * so a run of another instance of the stack never collides with it: each
 * user has its own place in {@link CLUSTER_FIXTURES}, which puts its masters
 * at RS_REDIS_PORT + 10·(place + 1) and the two ports after (cluster bus
 * +1000), apart from the stack's own Redis ports and from each other, as the
 * projects may run at the same time.
 * `destroy` kills the servers and removes their directories.
 */
import { formRedisCluster, redisClusterNodeArgs, redisClusterPorts, redisClusterUrl } from "../../deploy/stack/redis-cluster.js";
import { redisEncodingArgs } from "../../deploy/stack/redis-memory.js";
import { HOST, ports } from "../../deploy/stack/settings.js";
import { privateRedis, type PrivateRedis } from "./private-redis.js";

/** Distance between the first ports of two fixtures (and from the stack's own Redis ports). */
const PORT_STRIDE = 10;

/** Who starts a cluster, each on ports of its own. */
export const CLUSTER_FIXTURES = {
  /** The integration-cluster project's global setup (one cluster for the whole run). */
  integrationCluster: 0,
  /** pkg/redis/test/redis.int.test.ts. */
  redisPackage: 1,
  /** services/relation/test/redis-cluster-loss.int.test.ts (restarts a master). */
  relationLoss: 2,
} as const;

export interface RedisClusterFixture {
  /** `host:port` of every master. */
  readonly nodes: readonly { host: string; port: number }[];
  /** The servers, to kill one and start it again (empty: no persistence). */
  readonly servers: readonly PrivateRedis[];
  /** The setting that selects the cluster in `createRedis`: `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,...`. */
  readonly url: string;
  /** Stops the servers and removes their directories. */
  destroy(): Promise<void>;
}

/** Starts three cluster-enabled masters, assigns the slots, joins them and waits for `cluster_state:ok`. */
export async function startRedisCluster(place: (typeof CLUSTER_FIXTURES)[keyof typeof CLUSTER_FIXTURES]): Promise<RedisClusterFixture> {
  const masterPorts = redisClusterPorts(ports.redis.port + PORT_STRIDE * (place + 1));
  const servers: PrivateRedis[] = [];
  try {
    for (const port of masterPorts) servers.push(await privateRedis([...redisClusterNodeArgs(port), ...redisEncodingArgs()], port));
    await formRedisCluster(HOST, masterPorts);
  } catch (err) {
    await Promise.all(servers.map((s) => s.destroy()));
    throw err;
  }
  return {
    nodes: masterPorts.map((port) => ({ host: HOST, port })),
    servers,
    url: redisClusterUrl(HOST, masterPorts),
    async destroy() {
      await Promise.all(servers.map((s) => s.destroy()));
    },
  };
}
