/**
 * Fans pages past the fans:{B} window, read from B's `fans` shard by the
 * relation service's repository (RelationReadsRepository.fansAfter) on a
 * throwaway database of the real MariaDB: pages of any limit, following the
 * cursor, give exactly B's active fans in (time desc, id numerically desc)
 * order, ties and unfollowed rows included; and the statement is answered
 * from the list index alone (`Using index`: no row of the clustered table is
 * read), so a page deep in a big account's list costs one index range of
 * `limit` entries wherever it starts (bench/big-account.ts).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { migrate, ShardedMysql, type RowDataPacket } from "@rs/mysql";
import { createThrowawayDatabases, type ThrowawayDatabases } from "../../../pkg/mysql/test/throwaway-databases.js";
import { RelationReadsRepository } from "../src/adapters/mysql/relation-reads.repository.js";
import { compareNewestFirst, type CursorPosition } from "../src/domain/cursor.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const logger = createLogger("fans-shard-page-test", "warn");
const B = 7_000_000_001;
const OTHER = B + 1;
const FANS = 3_000;

let dbs: ThrowawayDatabases;
let mysql: ShardedMysql;
let reads: RelationReadsRepository;
/** Every statement the repository sent, with its parameters. */
const sent: { sql: string; params: unknown[] }[] = [];
/** B's active fans, newest first. */
let expected: CursorPosition[];

beforeAll(async () => {
  dbs = await createThrowawayDatabases(1);
  mysql = ShardedMysql.create({ dsns: dbs.dsns, virtualShards: 64, poolSize: 2, logger });
  await migrate(mysql, [{ name: "relation", dir: path.join(HERE, "../migrations") }], logger);
  let seed = 11;
  const rnd = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
  const rows: unknown[][] = [];
  const active: CursorPosition[] = [];
  for (const owner of [B, OTHER]) {
    const ids = new Set<number>();
    // ids of every length, few distinct times: ties of one to dozens of fans
    while (ids.size < FANS) ids.add(rnd() < 0.3 ? 1 + Math.floor(rnd() * 5_000) : 10 ** (4 + Math.floor(rnd() * 11)) + Math.floor(rnd() * 1_000));
    for (const id of ids) {
      const timeMs = 1_000 + Math.floor(rnd() * (FANS / 8));
      const status = rnd() < 0.2 ? 0 : 1;
      rows.push([owner, id, 0, status, timeMs, 1, timeMs]);
      if (owner === B && status === 1) active.push({ id, timeMs });
    }
  }
  await mysql.pool(0).query("INSERT INTO fans (to_user_id, from_user_id, source, status, created_at, version, updated_at) VALUES ?", [rows]);
  await mysql.pool(0).query("ANALYZE TABLE fans");
  expected = active.sort(compareNewestFirst);
  const recording = {
    poolFor: (id: number) => ({
      query: (sql: string, params: unknown[]) => {
        sent.push({ sql, params });
        return mysql.poolFor(id).query(sql, params);
      },
    }),
  } as unknown as ShardedMysql;
  reads = new RelationReadsRepository(recording);
});

afterAll(async () => {
  await mysql?.close();
  await dbs?.drop();
});

async function walk(limit: number): Promise<CursorPosition[]> {
  const seen: CursorPosition[] = [];
  let cursor: CursorPosition | undefined;
  for (let guard = 0; guard <= FANS; guard++) {
    const page = await reads.fansAfter(B, cursor, limit);
    expect(page.length).toBeLessThanOrEqual(limit);
    seen.push(...page);
    if (page.length < limit) return seen;
    cursor = page[page.length - 1];
  }
  throw new Error("the walk did not end");
}

describe("fans pages from the shard", () => {
  it("page B's active fans with ties exactly like a sort by (time desc, id desc), for every limit", async () => {
    for (const limit of [1, 7, 20, 101]) expect(await walk(limit)).toEqual(expected);
  });

  it("read only the list index, from the cursor on", async () => {
    sent.length = 0;
    const cursor = expected[Math.floor(expected.length * 0.9)]!;
    const page = await reads.fansAfter(B, cursor, 21);
    expect(page).toEqual(expected.slice(Math.floor(expected.length * 0.9) + 1).slice(0, 21));
    const [statement] = sent;
    const [plan] = await mysql.pool(0).query<RowDataPacket[]>(`EXPLAIN ${statement!.sql}`, statement!.params);
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({ table: "fans", type: "range", key: "idx_fans_list" });
    expect(String(plan[0]!.Extra)).toContain("Using index");
    expect(String(plan[0]!.Extra)).not.toContain("filesort");
    const [analyzed] = await mysql.pool(0).query<RowDataPacket[]>(`ANALYZE FORMAT=JSON ${statement!.sql}`, statement!.params);
    const table = (JSON.parse(String(Object.values(analyzed[0]!)[0])) as { query_block: { nested_loop: { table: { r_rows: number } }[] } }).query_block
      .nested_loop[0]!.table;
    // the range starts at the cursor: the entries read are the page's, not the 90 % before it
    expect(table.r_rows).toBe(21);
  });
});
