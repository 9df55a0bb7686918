/**
 * Brings the infrastructure's contents to what the suite expects: the shard
 * databases and their user, the schema on every shard, the Kafka topics, and a
 * locally generated JWT secret. Every step is idempotent.
 */
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { DATA_DIR, HOST, MYSQL_PASSWORD, MYSQL_USER, SHARD_DATABASES, TOPICS, ports } from "./settings.js";
import { MARIADB_SOCKET } from "./infra.js";

function sqlString(s: string): string {
  return "'" + s.replaceAll("\\", "\\\\").replaceAll("'", "\\'") + "'";
}

/** Creates the shard databases and the application user (loopback only). */
export function provisionMariadb(): void {
  const statements = [
    ...SHARD_DATABASES.map((db) => `CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`),
    `CREATE USER IF NOT EXISTS ${sqlString(MYSQL_USER)}@'127.0.0.1' IDENTIFIED BY ${sqlString(MYSQL_PASSWORD)}`,
    `ALTER USER ${sqlString(MYSQL_USER)}@'127.0.0.1' IDENTIFIED BY ${sqlString(MYSQL_PASSWORD)}`,
    // Tests create throwaway databases (rs_test_*) beside the shards.
    `GRANT ALL PRIVILEGES ON *.* TO ${sqlString(MYSQL_USER)}@'127.0.0.1'`,
  ];
  execFileSync("mariadb", [`--socket=${MARIADB_SOCKET}`, "-uroot"], { input: statements.join(";\n") + ";\n", stdio: ["pipe", "pipe", "pipe"] });
}

export function kafkaClient(): Kafka {
  return new Kafka({ clientId: "rs-stack", brokers: [`${HOST}:${ports.kafka.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

/** True once the broker answers metadata requests and has a controller. */
export async function kafkaReady(): Promise<boolean> {
  const admin = kafkaClient().admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.controller !== null && cluster.brokers.length > 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Creates the suite's topics with their partition counts, if they are missing. */
export async function provisionKafka(): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = Object.values(TOPICS).filter((t) => !existing.has(t.name));
    if (wanted.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: wanted.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: 1 })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * A JWT secret for the local stack: random, made on first start, kept in a
 * git-ignored file readable by its owner only. Deployments pass their own.
 */
export function localJwtSecret(): string {
  const file = path.join(DATA_DIR, "secrets", "jwt-secret");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, crypto.randomBytes(48).toString("base64url"), { mode: 0o600 });
  }
  return fs.readFileSync(file, "utf8").trim();
}
