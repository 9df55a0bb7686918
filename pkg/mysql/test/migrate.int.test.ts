import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { MigrationChecksumError, MigrationError, ShardedMysql, migrate, type MigrationDir, type RowDataPacket } from "../src/index.js";
import { createThrowawayDatabases, type ThrowawayDatabases } from "./throwaway-databases.js";

const logger = createLogger("migrate-test", "silent");

let dbs: ThrowawayDatabases;
let root: string;
const open: ShardedMysql[] = [];

function shardedOver(): ShardedMysql {
  const s = ShardedMysql.create({ dsns: dbs.dsns, virtualShards: 64, poolSize: 1, logger });
  open.push(s);
  return s;
}

async function migrationsDir(name: string, files: Record<string, string>): Promise<MigrationDir> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, sql] of Object.entries(files)) await writeFile(path.join(dir, file), sql);
  return { name, dir };
}

async function query(sql: string): Promise<RowDataPacket[]> {
  const [rows] = await dbs.admin.query<RowDataPacket[]>(sql);
  return rows;
}

beforeEach(async () => {
  dbs = await createThrowawayDatabases(2);
  root = await mkdtemp(path.join(tmpdir(), "rs-migrate-"));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await dbs.drop();
  await rm(root, { recursive: true, force: true });
});

// Deliberately not idempotent: applying a file twice fails (CREATE TABLE) or
// doubles a row (INSERT), so a double application cannot go unnoticed.
const FILES = {
  "0001_create_widgets.sql": "-- widgets\nCREATE TABLE widgets (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(32) NOT NULL);\n",
  "0002_seed_widgets.sql": "INSERT INTO widgets (id, name) VALUES (1, 'first');\nINSERT INTO widgets (id, name) VALUES (2, 'second');\n",
};

describe("migrate", () => {
  it("applies every file, in order, to every shard and records it", async () => {
    const widgets = await migrationsDir("widgets", FILES);
    const gadgets = await migrationsDir("gadgets", { "0001_create_gadgets.sql": "CREATE TABLE gadgets (id INT PRIMARY KEY);" });
    const report = await migrate(shardedOver(), [widgets, gadgets], logger);

    expect(report.shards.map((s) => s.applied)).toEqual([
      ["widgets/0001_create_widgets.sql", "widgets/0002_seed_widgets.sql", "gadgets/0001_create_gadgets.sql"],
      ["widgets/0001_create_widgets.sql", "widgets/0002_seed_widgets.sql", "gadgets/0001_create_gadgets.sql"],
    ]);
    for (const db of dbs.names) {
      expect(await query(`SELECT id, name FROM \`${db}\`.widgets ORDER BY id`)).toEqual([
        { id: 1, name: "first" },
        { id: 2, name: "second" },
      ]);
      const recorded = await query(`SELECT name, checksum, applied_at FROM \`${db}\`.schema_migrations ORDER BY applied_at, name`);
      expect(recorded.map((r) => r.name).sort()).toEqual(
        ["gadgets/0001_create_gadgets.sql", "widgets/0001_create_widgets.sql", "widgets/0002_seed_widgets.sql"].sort(),
      );
      for (const r of recorded) {
        expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);
        expect(r.applied_at).toBeInstanceOf(Date);
      }
    }
  });

  it("is a no-op when run again, and applies only what was added since", async () => {
    const widgets = await migrationsDir("widgets", FILES);
    await migrate(shardedOver(), [widgets], logger);
    const again = await migrate(shardedOver(), [widgets], logger);
    expect(again.shards.map((s) => [s.applied, s.alreadyApplied])).toEqual([
      [[], 2],
      [[], 2],
    ]);

    await writeFile(path.join(widgets.dir, "0003_add_color.sql"), "ALTER TABLE widgets ADD COLUMN color VARCHAR(16) NULL;");
    const third = await migrate(shardedOver(), [widgets], logger);
    expect(third.shards.map((s) => s.applied)).toEqual([["widgets/0003_add_color.sql"], ["widgets/0003_add_color.sql"]]);
    for (const db of dbs.names) expect(await query(`SELECT COUNT(*) AS n FROM \`${db}\`.widgets`)).toEqual([{ n: 2 }]);
  });

  it("refuses, naming the file and shard, when an applied file was edited", async () => {
    const widgets = await migrationsDir("widgets", FILES);
    await migrate(shardedOver(), [widgets], logger);
    await writeFile(path.join(widgets.dir, "0002_seed_widgets.sql"), "INSERT INTO widgets (id, name) VALUES (3, 'edited');");
    await writeFile(path.join(widgets.dir, "0003_more.sql"), "INSERT INTO widgets (id, name) VALUES (4, 'more');");

    const err = await migrate(shardedOver(), [widgets], logger).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MigrationChecksumError);
    expect((err as MigrationChecksumError).changed.map((c) => c.name)).toEqual(["widgets/0002_seed_widgets.sql"]);
    expect((err as Error).message).toMatch(new RegExp(`shard 0 \\(.*/${dbs.names[0]}\\).*widgets/0002_seed_widgets\\.sql`));
    // Nothing after the refusal ran: neither the edited file nor the new one.
    for (const db of dbs.names) expect(await query(`SELECT id FROM \`${db}\`.widgets ORDER BY id`)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("is safe when two processes migrate at once", async () => {
    const widgets = await migrationsDir("widgets", {
      ...FILES,
      // Holds the lock a while, so the two runs really overlap.
      "0003_slow.sql": "DO SLEEP(0.3);\nINSERT INTO widgets (id, name) VALUES (3, 'slow');",
    });
    const runs = await Promise.all([1, 2, 3].map(() => migrate(shardedOver(), [widgets], logger)));

    for (let shard = 0; shard < 2; shard++) {
      // Each file was applied by exactly one of the runs.
      const appliedBy = runs.flatMap((r) => r.shards[shard]!.applied);
      expect(appliedBy.sort()).toEqual(["widgets/0001_create_widgets.sql", "widgets/0002_seed_widgets.sql", "widgets/0003_slow.sql"]);
    }
    for (const db of dbs.names) {
      expect(await query(`SELECT id FROM \`${db}\`.widgets ORDER BY id`)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      expect(await query(`SELECT COUNT(*) AS n FROM \`${db}\`.schema_migrations`)).toEqual([{ n: 3 }]);
    }
  });

  it("stops at a failing file, keeps what ran before it, and retries it next time", async () => {
    const widgets = await migrationsDir("widgets", { ...FILES, "0003_broken.sql": "ALTER TABLE no_such_table ADD COLUMN x INT;" });
    await expect(migrate(shardedOver(), [widgets], logger)).rejects.toThrow(MigrationError);
    const recorded = await query(`SELECT name FROM \`${dbs.names[0]}\`.schema_migrations ORDER BY name`);
    expect(recorded.map((r) => r.name)).toEqual(["widgets/0001_create_widgets.sql", "widgets/0002_seed_widgets.sql"]);
    // Shards are migrated one after the other: the failure stopped the run before shard 1.
    expect(await query(`SHOW TABLES FROM \`${dbs.names[1]}\``)).toEqual([]);

    await writeFile(path.join(widgets.dir, "0003_broken.sql"), "ALTER TABLE widgets ADD COLUMN x INT;");
    const fixed = await migrate(shardedOver(), [widgets], logger);
    expect(fixed.shards.map((s) => s.applied)).toEqual([
      ["widgets/0003_broken.sql"],
      ["widgets/0001_create_widgets.sql", "widgets/0002_seed_widgets.sql", "widgets/0003_broken.sql"],
    ]);
  });
});
