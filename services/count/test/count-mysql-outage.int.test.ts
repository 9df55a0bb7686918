/**
 * A MySQL outage answers UNAVAILABLE from the count service, as from every
 * service (the shared mapping of `@rs/errors`, applied by `unary` in
 * `@rs/grpc`), not INTERNAL: a fault proxy in front of MariaDB first refuses
 * connections (a server down: connection errors), then stalls (a hung server:
 * the bounded pool's MysqlTimeoutError); after each heal the same call answers.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy, type FaultProxy } from "../../../test/support/fault-proxy.js";
import { dsnTarget, dsnThrough } from "../../../test/support/proxied-dsn.js";
import { createCountWorld, randomId, type CountClient, type CountWorld } from "./count-fixture.js";

const TIMEOUT_MS = 1_000;
/** Room for the client's retries of an idempotent read, each bounded by the MySQL deadlines above. */
const CALL_DEADLINE_MS = 15_000;

let w: CountWorld;
let proxy: FaultProxy;
let client: CountClient;
/** The same service with the default MySQL bounds (seconds): only the caller's deadline can cut its waits short. */
let patient: CountClient;

beforeAll(async () => {
  w = await createCountWorld("mysql-outage");
  proxy = await startFaultProxy(dsnTarget(w.dbs.dsns[0]!));
  const s = await w.service({
    MYSQL_SHARD_DSNS: w.dbs.dsns.map((dsn) => dsnThrough(proxy, dsn)).join(","),
    MYSQL_CONNECT_TIMEOUT_MS: String(TIMEOUT_MS),
    MYSQL_ACQUIRE_TIMEOUT_MS: String(TIMEOUT_MS),
    MYSQL_QUERY_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  client = s.client;
  patient = (await w.service({ MYSQL_SHARD_DSNS: w.dbs.dsns.map((dsn) => dsnThrough(proxy, dsn)).join(",") })).client;
});

afterAll(async () => {
  proxy?.heal();
  await w?.cleanup();
  await proxy?.close();
});

/** A count that is in no cache, so the call must read the shards. */
const readUncached = () => client.getCounts({ userId: randomId() }, { deadlineMs: CALL_DEADLINE_MS });
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => status.OK,
    (err: { code?: number }) => err.code,
  );

describe("count service during a MySQL outage", () => {
  it("answers UNAVAILABLE while MariaDB refuses connections, and answers again after", async () => {
    expect(await codeOf(readUncached())).toBe(status.OK);
    proxy.refuse();
    proxy.dropConnections();
    expect(await codeOf(readUncached())).toBe(status.UNAVAILABLE);
    proxy.heal();
    expect(await codeOf(readUncached())).toBe(status.OK);
  });

  it("answers UNAVAILABLE within its caller's deadline, shorter than its own MySQL bounds", async () => {
    const SHORT_DEADLINE_MS = 800;
    expect(await codeOf(patient.getCounts({ userId: randomId() }, { deadlineMs: SHORT_DEADLINE_MS }))).toBe(status.OK);
    proxy.stall();
    try {
      const t0 = Date.now();
      // not DEADLINE_EXCEEDED: the service gave up on MySQL before the caller gave up on it
      expect(await codeOf(patient.getCounts({ userId: randomId() }, { deadlineMs: SHORT_DEADLINE_MS }))).toBe(status.UNAVAILABLE);
      expect(Date.now() - t0).toBeLessThan(SHORT_DEADLINE_MS);
    } finally {
      proxy.heal();
    }
  });

  it("answers UNAVAILABLE when MariaDB stops answering (the pool's deadlines), and answers again after", async () => {
    expect(await codeOf(readUncached())).toBe(status.OK);
    proxy.stall();
    expect(await codeOf(readUncached())).toBe(status.UNAVAILABLE);
    proxy.heal();
    expect(await codeOf(readUncached())).toBe(status.OK);
  });
});
