/**
 * Global setup of the `integration-cluster` project: one three-master Redis
 * Cluster on loopback for the whole run, its URL provided to the test files
 * (redis-cluster.env.ts points REDIS_URL at it). When the local stack itself
 * runs a cluster (RS_REDIS_CLUSTER=1, so REDIS_URL is `redis-cluster://...`)
 * the tests use that one; otherwise a private one is started
 * (test/support/redis-cluster.ts) and stopped at the end.
 */
import type { TestProject } from "vitest/node";
import { REDIS_CLUSTER_SCHEME } from "../../pkg/redis/src/index.js";
import { CLUSTER_FIXTURES, startRedisCluster } from "./redis-cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisClusterUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stackUrl = process.env.REDIS_URL;
  if (stackUrl?.startsWith(REDIS_CLUSTER_SCHEME)) {
    project.provide("redisClusterUrl", stackUrl);
    return async () => undefined;
  }
  const cluster = await startRedisCluster(CLUSTER_FIXTURES.integrationCluster);
  project.provide("redisClusterUrl", cluster.url);
  return () => cluster.destroy();
}
