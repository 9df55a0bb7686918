/**
 * Setup file of the `integration-cluster` project: the Redis tests run
 * unchanged, with REDIS_URL naming the cluster the global setup started.
 * Runs in the project's own workers, so the single-node projects keep theirs.
 */
import { inject } from "vitest";
import "./redis-cluster.global-setup.js";

process.env.REDIS_URL = inject("redisClusterUrl");
