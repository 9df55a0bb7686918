/**
 * Throwaway `rs_test_<random>_<n>` databases on the test MariaDB, so
 * integration tests never touch the stack's shards or each other's data.
 */
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { infra } from "../../../test/infra.js";

export interface ThrowawayDatabases {
  readonly names: readonly string[];
  /** One DSN per database, same server and user as the stack's shards. */
  readonly dsns: readonly string[];
  /** A connection to run checks with (any database, qualify table names). */
  readonly admin: mysql.Connection;
  drop(): Promise<void>;
}

export async function createThrowawayDatabases(count: number): Promise<ThrowawayDatabases> {
  const base = infra().mysqlShardDsns[0]!;
  const tag = randomBytes(5).toString("hex");
  const names = Array.from({ length: count }, (_, i) => `rs_test_${tag}_${i}`);
  const admin = await mysql.createConnection({ uri: base, supportBigNumbers: true });
  for (const name of names) await admin.query(`CREATE DATABASE ${mysql.escapeId(name)} CHARACTER SET utf8mb4`);
  const dsns = names.map((name) => {
    const u = new URL(base);
    u.pathname = `/${name}`;
    return u.toString();
  });
  return {
    names,
    dsns,
    admin,
    async drop() {
      for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${mysql.escapeId(name)}`);
      await admin.end();
    },
  };
}
