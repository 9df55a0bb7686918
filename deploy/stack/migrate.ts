/** Applies the schema migrations to every physical shard of the local stack. */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { createLogger } from "@rs/logger";
import { ShardedMysql, VIRTUAL_SHARDS_DEFAULT, migrate, type MigrationDir } from "@rs/mysql";
import { ROOT, infraEnv } from "./settings.js";

/** Migrations run one file at a time per shard; one connection each is plenty. */
const MIGRATION_POOL_SIZE = 1;

/** Every `services/<svc>/migrations/` directory that exists, named after its service. */
export function serviceMigrationDirs(root: string = ROOT): MigrationDir[] {
  const services = path.join(root, "services");
  if (!existsSync(services)) return [];
  return readdirSync(services, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => ({ name: d.name, dir: path.join(services, d.name, "migrations") }))
    .filter((d) => existsSync(d.dir))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Applies every service's migrations to the local shard databases (the
 * MYSQL_SHARD_DSNS of {@link infraEnv}). Safe to run while another run is
 * migrating, and a no-op when the schema is current. `opts` lets a test point
 * it at throwaway databases and a scratch tree.
 */
export async function migrateAll(opts: { dsns?: readonly string[]; root?: string } = {}): Promise<void> {
  const logger = createLogger("migrate", process.env.LOG_LEVEL ?? "warn");
  const dirs = serviceMigrationDirs(opts.root);
  const sharded = ShardedMysql.create({
    dsns: opts.dsns ?? infraEnv().MYSQL_SHARD_DSNS!.split(","),
    // Placement plays no part in migrating: every shard gets every file.
    virtualShards: VIRTUAL_SHARDS_DEFAULT,
    poolSize: MIGRATION_POOL_SIZE,
    logger,
  });
  try {
    const report = await migrate(sharded, dirs, logger);
    const from = dirs.length > 0 ? dirs.map((d) => `services/${d.name}/migrations`).join(", ") : "no services/*/migrations yet";
    for (const shard of report.shards) {
      const what = shard.applied.length > 0 ? `applied ${shard.applied.join(", ")}` : "up to date";
      process.stdout.write(`    migrations on ${shard.shard}: ${what} (${from})\n`);
    }
  } finally {
    await sharded.close();
  }
}
