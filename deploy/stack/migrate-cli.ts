/**
 * One-shot schema migration for deployments (the `migrate` service of
 * docker-compose.yml): applies every `services/<svc>/migrations` directory to
 * each shard named by MYSQL_SHARD_DSNS, then exits 0; exits non-zero with the
 * reason otherwise. Safe to run again: applied files are skipped.
 *
 *   MYSQL_SHARD_DSNS=mysql://…/rs_shard_0,mysql://…/rs_shard_1 node --import tsx deploy/stack/migrate-cli.ts
 */
import { migrateAll } from "./migrate.js";

const dsns = (process.env.MYSQL_SHARD_DSNS ?? "")
  .split(",")
  .map((d) => d.trim())
  .filter((d) => d.length > 0);
if (dsns.length === 0) {
  process.stderr.write("migrate: MYSQL_SHARD_DSNS is required (comma-separated mysql://user:password@host:port/database)\n");
  process.exit(2);
}

try {
  await migrateAll({ dsns });
} catch (err) {
  // The runner's errors name the shard by host:port/database, never by its DSN.
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
