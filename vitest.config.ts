import { defineConfig } from "vitest/config";

// Two tiers: `unit` (pure logic, no servers) and `integration` (`*.int.test.ts`,
// against the real MariaDB, Redis, Kafka and etcd of the local stack).
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
    ],
  },
});
