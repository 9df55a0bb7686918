import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { ShardedMysql, type RowDataPacket } from "../src/index.js";
import { createThrowawayDatabases, type ThrowawayDatabases } from "./throwaway-databases.js";

const logger = createLogger("mysql-test", "silent");
/** Snowflake-shaped ids (40-bit ms, 6-bit worker, 7-bit sequence) like @rs/ids mints. */
const ids = Array.from({ length: 2_000 }, (_, i) => (1_700_000_000 + Math.floor(i / 4)) * 8192 + (i % 2) * 128 + ((i % 4) >> 1));

let dbs: ThrowawayDatabases;
let sharded: ShardedMysql;

beforeAll(async () => {
  dbs = await createThrowawayDatabases(2);
  sharded = ShardedMysql.create({ dsns: dbs.dsns, virtualShards: 64, poolSize: 4, logger });
  await sharded.forEachShard((pool) =>
    pool.query(
      "CREATE TABLE items (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, note VARCHAR(32) NOT NULL, at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB",
    ),
  );
});

afterAll(async () => {
  await sharded?.close();
  await dbs?.drop();
});

async function countIn(db: string): Promise<number> {
  const [rows] = await dbs.admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${db}\`.items`);
  return rows[0]!.n as number;
}

describe("ShardedMysql routing over two databases", () => {
  it("writes each id to the database its shard map names, spread over both", async () => {
    const groups = sharded.groupByShard(ids, (id) => id);
    expect([...groups.keys()].sort()).toEqual([0, 1]);
    for (const [physical, group] of groups) {
      await sharded.transaction(physical, async (conn) => {
        await conn.query("INSERT INTO items (id, note) VALUES ?", [group.map((id) => [id, "x"])]);
      });
    }
    const n0 = await countIn(dbs.names[0]!);
    const n1 = await countIn(dbs.names[1]!);
    expect(n0 + n1).toBe(ids.length);
    // Default map: virtual 0-31 → database 0, 32-63 → database 1: about half each.
    expect(n0 / ids.length).toBeGreaterThan(0.4);
    expect(n1 / ids.length).toBeGreaterThan(0.4);

    for (const id of ids.slice(0, 200)) {
      const [rows] = await sharded.poolFor(id).query<RowDataPacket[]>("SELECT DATABASE() AS db, COUNT(*) AS n FROM items WHERE id = ?", [id]);
      expect(rows[0]!.db).toBe(dbs.names[sharded.physicalOf(id)]);
      expect(rows[0]!.n).toBe(1);
    }
  });

  it("routes the same id to the same shard in every instance", async () => {
    const other = ShardedMysql.create({ dsns: dbs.dsns, virtualShards: 64, shardMap: "0-31=0,32-63=1", poolSize: 1, logger });
    try {
      for (const id of ids) {
        expect(other.physicalOf(id)).toBe(sharded.physicalOf(id));
        expect(other.virtualOf(id)).toBe(sharded.virtualOf(id));
        expect(sharded.physicalOf(id)).toBe(sharded.physicalOf(id));
      }
    } finally {
      await other.close();
    }
  });

  it("returns BIGINT as JS numbers and keeps sessions in UTC", async () => {
    const id = Number.MAX_SAFE_INTEGER;
    const physical = sharded.physicalOf(id);
    await sharded.pool(physical).execute("INSERT INTO items (id, note) VALUES (?, 'max')", [id]);
    const [rows] = await sharded
      .pool(physical)
      .execute<RowDataPacket[]>("SELECT id, COUNT(*) OVER () AS n, SUM(id) OVER () AS s, @@session.time_zone AS tz FROM items WHERE id = ?", [id]);
    expect(rows[0]!.id).toBe(id);
    expect(typeof rows[0]!.n).toBe("number");
    expect(rows[0]!.s).toBe(id);
    expect(rows[0]!.tz).toBe("+00:00");
  });
});

describe("ShardedMysql.transaction", () => {
  it("commits on success and rolls back on error, releasing the connection both times", async () => {
    const id = 77;
    const physical = sharded.physicalOf(id);
    await expect(
      sharded.transaction(physical, async (conn) => {
        await conn.query("INSERT INTO items (id, note) VALUES (?, 'rolled back')", [id]);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    const [none] = await sharded.pool(physical).query<RowDataPacket[]>("SELECT id FROM items WHERE id = ?", [id]);
    expect(none).toHaveLength(0);

    // More transactions than the pool has connections: a leaked connection would hang here.
    for (let i = 0; i < 10; i++) {
      await sharded.transaction(physical, async (conn) => {
        await conn.query("INSERT INTO items (id, note) VALUES (?, 'kept') ON DUPLICATE KEY UPDATE note = 'kept'", [id]);
      });
      await expect(sharded.transaction(physical, async () => Promise.reject(new Error("again")))).rejects.toThrow("again");
    }
    const [one] = await sharded.pool(physical).query<RowDataPacket[]>("SELECT note FROM items WHERE id = ?", [id]);
    expect(one).toEqual([{ note: "kept" }]);
  });
});

describe("ShardedMysql.ping", () => {
  it("resolves when every shard answers and names the shard that does not", async () => {
    await sharded.ping();
    const broken = ShardedMysql.create({
      dsns: [dbs.dsns[0]!, dbs.dsns[1]!.replace(/\/[^/]+$/, "/rs_test_missing_db")],
      virtualShards: 64,
      poolSize: 1,
      logger,
    });
    try {
      const err = await broken.ping().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/shard 1 \(127\.0\.0\.1:\d+\/rs_test_missing_db\)/);
      expect(err?.message).not.toMatch(/shard 0/);
      expect(err?.message).not.toContain("rs-local-dev");
    } finally {
      await broken.close();
    }
  });
});
