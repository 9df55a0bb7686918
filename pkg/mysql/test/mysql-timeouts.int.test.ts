/**
 * Every call through ShardedMysql is bounded: a MariaDB that stops answering
 * (a fault proxy in front of the real server, stalled) makes queries,
 * transactions, pool acquires and new connections fail within their
 * deadlines, and once the proxy heals the same pools work again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { startFaultProxy, type FaultProxy } from "../../../test/support/fault-proxy.js";
import { dsnTarget, dsnThrough } from "../../../test/support/proxied-dsn.js";
import { MysqlTimeoutError, ShardedMysql, type RowDataPacket } from "../src/index.js";
import { createThrowawayDatabases, type ThrowawayDatabases } from "./throwaway-databases.js";

const logger = createLogger("mysql-timeout-test", "silent");
const QUERY_TIMEOUT_MS = 600;
const ACQUIRE_TIMEOUT_MS = 400;
const CONNECT_TIMEOUT_MS = 500;
/** Slack for timers and the event loop on a shared machine. */
const SLACK_MS = 1_500;
const HEAL_DEADLINE_MS = 10_000;

let dbs: ThrowawayDatabases;
let proxy: FaultProxy;
let sharded: ShardedMysql;

beforeAll(async () => {
  dbs = await createThrowawayDatabases(1);
  proxy = await startFaultProxy(dsnTarget(dbs.dsns[0]!));
  sharded = ShardedMysql.create({
    dsns: [dsnThrough(proxy, dbs.dsns[0]!)],
    virtualShards: 64,
    poolSize: 2,
    logger,
    queryTimeoutMs: QUERY_TIMEOUT_MS,
    acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  });
  await sharded.pool(0).query("CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB");
});

afterAll(async () => {
  proxy?.heal();
  await sharded?.close();
  await proxy?.close();
  await dbs?.drop();
});

/** Runs `fn`, expecting it to fail with a MysqlTimeoutError of `phase`; returns how long that took. */
async function failsWithTimeout(phase: "acquire" | "query", fn: () => Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MysqlTimeoutError);
  expect((err as MysqlTimeoutError).phase).toBe(phase);
  expect((err as MysqlTimeoutError).code).toBe("ETIMEDOUT");
  return Date.now() - t0;
}

async function waitUntilWorks(): Promise<void> {
  const deadline = Date.now() + HEAL_DEADLINE_MS;
  for (;;) {
    try {
      await sharded.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe("MySQL calls against a stalled server", () => {
  it("a pool query on a stalled connection fails within the query timeout; after heal the pool works", async () => {
    await sharded.pool(0).query("SELECT 1"); // a pooled connection exists
    proxy.stall();
    const took = await failsWithTimeout("query", () => sharded.pool(0).query("SELECT 1"));
    expect(took).toBeLessThan(QUERY_TIMEOUT_MS + SLACK_MS);
    proxy.heal();
    await waitUntilWorks();
  });

  it("a transaction stalled mid-way fails within the query timeout and writes nothing", async () => {
    const t0 = Date.now();
    const err = await sharded
      .transaction(0, async (conn) => {
        await conn.query("INSERT INTO t (id, n) VALUES (1, 1)");
        proxy.stall();
        await conn.query("UPDATE t SET n = n + 1 WHERE id = 1");
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MysqlTimeoutError);
    // the statement's deadline, then a rollback on a destroyed connection that fails at once
    expect(Date.now() - t0).toBeLessThan(QUERY_TIMEOUT_MS + SLACK_MS);
    proxy.heal();
    await waitUntilWorks();
    const [rows] = await sharded.pool(0).query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM t");
    expect(rows[0]!.n).toBe(0);
  });

  it("with every connection stuck, further callers fail within the acquire timeout", async () => {
    const pool = sharded.pool(0);
    // hold both connections of the pool
    const held = [await pool.getConnection(), await pool.getConnection()];
    try {
      const took = await failsWithTimeout("acquire", () => pool.query("SELECT 1"));
      expect(took).toBeLessThan(ACQUIRE_TIMEOUT_MS + SLACK_MS);
      expect(took).toBeGreaterThanOrEqual(ACQUIRE_TIMEOUT_MS - 50);
    } finally {
      for (const c of held) c.release();
    }
    // the waiter handed a connection after it gave up returned it: the pool still serves
    await waitUntilWorks();
  });

  it("new connections to a stalled server fail within the bounds, and readiness (ping) fails within them too", async () => {
    // no pooled connection left: each call must open one through the stalled proxy
    proxy.dropConnections();
    proxy.stall();
    const t0 = Date.now();
    await expect(sharded.ping()).rejects.toThrow(/mysql unreachable/);
    expect(Date.now() - t0).toBeLessThan(Math.max(CONNECT_TIMEOUT_MS, ACQUIRE_TIMEOUT_MS) + QUERY_TIMEOUT_MS + SLACK_MS);
    proxy.heal();
    await waitUntilWorks();
    const [rows] = await sharded.pool(0).execute<RowDataPacket[]>("SELECT ? AS v", [7]);
    expect(rows[0]!.v).toBe(7);
  });
});
