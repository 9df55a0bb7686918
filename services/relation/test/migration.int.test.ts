/**
 * The relation schema on a throwaway database of the real MariaDB: it applies,
 * and it supports what the persister and the list readers need (upsert only
 * where newer, keyset pages over the list index, counts moved in the same
 * transaction as the edges). The statements here are examples of those access
 * paths, not the persister itself.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import mysql, { type Connection, type RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { infra } from "../../../test/infra.js";

const MIGRATION = new URL("../migrations/0001_relation.sql", import.meta.url);
const db = `rs_test_relation_${randomBytes(5).toString("hex")}`;
let conn: Connection;

const UPSERT_FOLLOW = `
  INSERT INTO follows (from_user_id, to_user_id, source, status, created_at, version, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON DUPLICATE KEY UPDATE
    created_at = IF(VALUES(version) > version AND status = 0 AND VALUES(status) = 1, VALUES(created_at), created_at),
    source     = IF(VALUES(version) > version AND status = 0 AND VALUES(status) = 1, VALUES(source), source),
    status     = IF(VALUES(version) > version, VALUES(status), status),
    updated_at = IF(VALUES(version) > version, VALUES(updated_at), updated_at),
    version    = GREATEST(version, VALUES(version))`;

const PAGE = `
  SELECT to_user_id AS id, created_at AS timeMs FROM follows
  WHERE from_user_id = ? AND status = 1 AND (created_at < ? OR (created_at = ? AND to_user_id < ?))
  ORDER BY created_at DESC, to_user_id DESC LIMIT ?`;

async function edge(from: number, to: number) {
  const [rows] = await conn.query<RowDataPacket[]>("SELECT status, created_at, source, version FROM follows WHERE from_user_id = ? AND to_user_id = ?", [
    from,
    to,
  ]);
  return rows[0] && { status: Number(rows[0].status), createdAt: Number(rows[0].created_at), source: Number(rows[0].source), version: Number(rows[0].version) };
}

beforeAll(async () => {
  const url = new URL(infra().mysqlShardDsns[0]!);
  conn = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    multipleStatements: true,
    supportBigNumbers: true,
  });
  await conn.query(`CREATE DATABASE ${db}`);
  await conn.query(`USE ${db}`);
  await conn.query(readFileSync(MIGRATION, "utf8"));
});

afterAll(async () => {
  await conn?.query(`DROP DATABASE IF EXISTS ${db}`);
  await conn?.end();
});

describe("0001_relation.sql", () => {
  it("creates the edge and count tables", async () => {
    const [rows] = await conn.query<RowDataPacket[]>("SHOW TABLES");
    expect(rows.map((r) => Object.values(r)[0]).sort()).toEqual(["fans", "follower_counts", "following_counts", "follows"]);
  });

  it("applies a transition only where its version is newer, keeping created_at while the edge stays active", async () => {
    await conn.query(UPSERT_FOLLOW, [1, 2, 7, 1, 1_000, 10, 1_000]);
    expect(await edge(1, 2)).toEqual({ status: 1, createdAt: 1_000, source: 7, version: 10 });
    await conn.query(UPSERT_FOLLOW, [1, 2, 0, 0, 2_000, 9, 2_000]); // older unfollow: ignored
    expect(await edge(1, 2)).toEqual({ status: 1, createdAt: 1_000, source: 7, version: 10 });
    await conn.query(UPSERT_FOLLOW, [1, 2, 3, 1, 1_500, 11, 1_500]); // newer follow of an active edge: created_at stays
    expect(await edge(1, 2)).toEqual({ status: 1, createdAt: 1_000, source: 7, version: 11 });
    await conn.query(UPSERT_FOLLOW, [1, 2, 0, 0, 3_000, 12, 3_000]); // unfollow
    expect(await edge(1, 2)).toEqual({ status: 0, createdAt: 1_000, source: 7, version: 12 });
    await conn.query(UPSERT_FOLLOW, [1, 2, 5, 1, 4_000, 13, 4_000]); // follow again: listed anew
    expect(await edge(1, 2)).toEqual({ status: 1, createdAt: 4_000, source: 5, version: 13 });
    await conn.query(UPSERT_FOLLOW, [1, 2, 5, 1, 4_000, 13, 4_000]); // replay: nothing changes
    expect(await edge(1, 2)).toEqual({ status: 1, createdAt: 4_000, source: 5, version: 13 });
    await expect(
      conn.query("INSERT INTO follows (from_user_id, to_user_id, status, created_at, version, updated_at) VALUES (9, 9, 2, 1, 1, 1)"),
    ).rejects.toThrow(/ck_follows_status|CONSTRAINT/i);
  });

  it("pages one user's follows newest first over the list index, without a sort", async () => {
    const user = 100;
    const values: unknown[] = [];
    for (let i = 0; i < 1_500; i++) values.push([user, 1_000 + i, 0, i % 10 === 0 ? 0 : 1, 5_000 + Math.floor(i / 4), 1, 1]);
    for (let i = 0; i < 1_500; i++) values.push([user + 1 + (i % 5), 1_000 + i, 0, 1, 5_000 + i, 1, 1]);
    await conn.query("INSERT INTO follows (from_user_id, to_user_id, source, status, created_at, version, updated_at) VALUES ?", [values]);
    await conn.query("ANALYZE TABLE follows");

    const [plan] = await conn.query<RowDataPacket[]>(`EXPLAIN ${PAGE}`, [user, 9_999_999, 9_999_999, 9_999_999, 20]);
    expect(plan[0]!.key).toBe("idx_follows_list");
    expect(String(plan[0]!.Extra)).not.toMatch(/filesort/i);

    const seen: { id: number; timeMs: number }[] = [];
    let cursor = { timeMs: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER };
    for (;;) {
      const [rows] = await conn.query<RowDataPacket[]>(PAGE, [user, cursor.timeMs, cursor.timeMs, cursor.id, 97]);
      const page = rows.map((r) => ({ id: Number(r.id), timeMs: Number(r.timeMs) }));
      seen.push(...page);
      if (page.length < 97) break;
      cursor = page[page.length - 1]!;
    }
    expect(seen).toHaveLength(1_350);
    expect(new Set(seen.map((x) => x.id)).size).toBe(1_350);
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1]!, seen[i]!];
      expect(a.timeMs > b.timeMs || (a.timeMs === b.timeMs && a.id > b.id)).toBe(true);
    }
  });

  it("moves an edge and its count in one transaction, or neither", async () => {
    const bump = async (commit: boolean) => {
      await conn.beginTransaction();
      await conn.query(UPSERT_FOLLOW, [500, 600, 0, 1, 1_000, 1, 1_000]);
      await conn.query(
        `INSERT INTO following_counts (user_id, following_count, version, updated_at) VALUES (500, 1, 1, 1000)
         ON DUPLICATE KEY UPDATE following_count = following_count + 1, version = GREATEST(version, VALUES(version))`,
      );
      await (commit ? conn.commit() : conn.rollback());
    };
    await bump(false);
    expect(await edge(500, 600)).toBeUndefined();
    const [none] = await conn.query<RowDataPacket[]>("SELECT * FROM following_counts WHERE user_id = 500");
    expect(none).toHaveLength(0);
    await bump(true);
    expect((await edge(500, 600))?.status).toBe(1);
    const [one] = await conn.query<RowDataPacket[]>("SELECT following_count FROM following_counts WHERE user_id = 500");
    expect(Number(one[0]!.following_count)).toBe(1);
  });

  it("gives fans the mirror layout, listable newest first per followee", async () => {
    await conn.query(
      "INSERT INTO fans (to_user_id, from_user_id, source, status, created_at, version, updated_at) VALUES (7, 1, 0, 1, 10, 1, 10), (7, 2, 0, 1, 10, 1, 10), (7, 3, 0, 0, 11, 2, 11)",
    );
    const [rows] = await conn.query<RowDataPacket[]>(
      "SELECT from_user_id FROM fans WHERE to_user_id = 7 AND status = 1 ORDER BY created_at DESC, from_user_id DESC LIMIT 10",
    );
    expect(rows.map((r) => Number(r.from_user_id))).toEqual([2, 1]);
    const [plan] = await conn.query<RowDataPacket[]>(
      "EXPLAIN SELECT from_user_id FROM fans WHERE to_user_id = 7 AND status = 1 ORDER BY created_at DESC, from_user_id DESC LIMIT 10",
    );
    expect(String(plan[0]!.Extra)).not.toMatch(/filesort/i);
  });
});
