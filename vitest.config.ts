import { defineConfig } from "vitest/config";

// Two tiers: `unit` (pure logic, no servers) and `integration` (`*.int.test.ts`,
// against the real MariaDB, Redis, Kafka and etcd of the local stack), plus
// `integration-cluster`: the tests of the Redis code again, against a
// three-master Redis Cluster on loopback (REDIS_URL=redis-cluster://...).

/**
 * The Redis code's integration tests that also run against a Redis Cluster.
 * Not listed (single-node only): services/user/test/redis-outage.int.test.ts
 * kills and restarts a private redis-server of its own;
 * services/count/test/count-mysql-outage.int.test.ts is a MySQL fault test.
 * Tests in the listed files that need a single server (a dead port, a silent
 * socket, a private redis-server) build it themselves, in both projects.
 */
export const REDIS_CLUSTER_TESTS = [
  "services/relation/test/following-reads.int.test.ts",
  "services/relation/test/following-write.int.test.ts",
  "services/relation/test/following-large.int.test.ts",
  "services/relation/test/fans-cache.int.test.ts",
  "services/relation/test/post-commit-steps.int.test.ts",
  "services/relation/test/pending-index.int.test.ts",
  "services/relation/test/backlog-gauges.int.test.ts",
  "services/relation/test/profile-change-notices.int.test.ts",
  "services/count/test/count-service.int.test.ts",
  "services/count/test/count-consumer.int.test.ts",
  "services/user/test/user-service.int.test.ts",
  "services/user/test/user-consumer.int.test.ts",
  "services/user/test/existence-filter.int.test.ts",
  "services/user/test/register-repair.int.test.ts",
  "pkg/auth/test/revocation.int.test.ts",
  "pkg/cache/test/redis-bloom-filter.int.test.ts",
  "gateway/test/redis-token-bucket.int.test.ts",
  "gateway/test/signed-in.int.test.ts",
];
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/*.int.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["**/*.int.test.ts"],
          exclude: ["**/node_modules/**"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "integration-cluster",
          include: REDIS_CLUSTER_TESTS,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          globalSetup: ["test/support/redis-cluster.global-setup.ts"],
          setupFiles: ["test/support/redis-cluster.env.ts"],
        },
      },
    ],
  },
});
