/**
 * Store outages answer UNAVAILABLE (retry later), not INTERNAL, in every
 * service: `toStatus` is what the gRPC server helper sends. Includes Redis at
 * its maxmemory with nothing left to evict ("OOM command not allowed",
 * docs/reliability.md, "Bounds") and `@rs/mysql`'s bounded-pool deadline.
 */
import { describe, expect, it } from "vitest";
import { Code, invalidArgument, isStoreOutage, toStatus } from "../src/index.js";

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const named = (message: string, name: string) => Object.assign(new Error(message), { name });
/** Shaped like `@rs/mysql`'s MysqlTimeoutError (this package depends on no store client). */
const mysqlTimeout = (message: string) => Object.assign(named(message, "MysqlTimeoutError"), { code: "ETIMEDOUT" });

describe("store outages", () => {
  it("recognises lost Redis and MySQL connections", () => {
    expect(isStoreOutage(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
    expect(isStoreOutage(withCode("connect ECONNREFUSED", "ECONNREFUSED"))).toBe(true);
    expect(isStoreOutage(new Error("boom"))).toBe(false);
    expect(isStoreOutage("Stream isn't writeable")).toBe(false);
  });

  it("recognises Redis OOM replies", () => {
    expect(isStoreOutage(named("OOM command not allowed when used memory > 'maxmemory'.", "ReplyError"))).toBe(true);
  });

  it("recognises MySQL timeouts, the bounded pool's deadlines included, and a full pool queue", () => {
    expect(isStoreOutage(mysqlTimeout("no connection to shard 0 (127.0.0.1:13306/rs_shard_0) within 500ms"))).toBe(true);
    expect(isStoreOutage(named("statement on shard 1 did not finish within 2000ms", "MysqlTimeoutError"))).toBe(true);
    expect(isStoreOutage(withCode("read ETIMEDOUT", "ETIMEDOUT"))).toBe(true);
    expect(isStoreOutage(withCode("Connection lost: The server closed the connection.", "PROTOCOL_CONNECTION_LOST"))).toBe(true);
    expect(isStoreOutage(new Error("Queue limit reached."))).toBe(true);
  });

  it("recognises an unreachable Kafka", () => {
    expect(isStoreOutage(named("Connection error: connect ECONNREFUSED 127.0.0.1:19092", "KafkaJSConnectionError"))).toBe(true);
    expect(isStoreOutage(named("Request Produce(key: 0, version: 7) timed out", "KafkaJSRequestTimeoutError"))).toBe(true);
  });

  it("does not take SQL or programming errors for outages", () => {
    expect(isStoreOutage(withCode("Duplicate entry '1' for key 'PRIMARY'", "ER_DUP_ENTRY"))).toBe(false);
    expect(isStoreOutage(withCode("You have an error in your SQL syntax", "ER_PARSE_ERROR"))).toBe(false);
    expect(isStoreOutage(new TypeError("x is undefined"))).toBe(false);
  });
});

describe("toStatus", () => {
  it("answers UNAVAILABLE for an outage, without its text, and leaves other errors alone", () => {
    expect(toStatus(new Error("Command timed out"))).toEqual({ code: Code.UNAVAILABLE, details: "a backing store is unavailable; retry" });
    expect(toStatus(mysqlTimeout("statement on shard 0 (db.internal:3306/rs_shard_0) did not finish within 2000ms")).details).not.toMatch(/db\.internal/);
    expect(toStatus(new Error("boom"))).toEqual({ code: Code.INTERNAL, details: "internal error" });
    expect(toStatus(invalidArgument("bad id"))).toEqual({ code: Code.INVALID_ARGUMENT, details: "bad id" });
  });
});
