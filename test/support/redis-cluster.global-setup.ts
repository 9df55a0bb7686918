/**
 * Global setup of the `integration-cluster` project: one three-master Redis
 * Cluster on loopback for the whole run (test/support/redis-cluster.ts), its
 * URL provided to the test files (redis-cluster.env.ts points REDIS_URL at it).
 */
import type { TestProject } from "vitest/node";
import { startRedisCluster } from "./redis-cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisClusterUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startRedisCluster();
  project.provide("redisClusterUrl", cluster.url);
  return () => cluster.destroy();
}
