/**
 * Request ids in Kafka headers: what a producer writes, what a consumer reads,
 * and a batch handled inside its records' ids with one line naming them.
 */
import { describe, expect, it } from "vitest";
import { createLogger, currentRequestIds, withRequestId } from "@rs/logger";
import { handleInRequestContext } from "../src/request-headers.js";
import { requestIdHeaders, requestIdsOfBatch, requestIdsOfHeaders } from "../src/index.js";

const record = (offset: number, requestId?: string) => ({
  offset: String(offset),
  key: null,
  value: Buffer.from("v"),
  timestamp: "0",
  attributes: 0,
  headers: requestId === undefined ? {} : { "x-request-id": Buffer.from(requestId) },
});

describe("request id headers", () => {
  it("a producer names the current request, or explicit ids, or nothing", () => {
    expect(requestIdHeaders()).toEqual({});
    expect(withRequestId("req-1", () => requestIdHeaders())).toEqual({ "x-request-id": "req-1" });
    expect(withRequestId("req-1", () => requestIdHeaders(["a", "b"]))).toEqual({ "x-request-id": "a,b" });
    expect(requestIdHeaders([])).toEqual({});
  });

  it("a consumer reads them back from the broker's Buffers, lists included", () => {
    expect(requestIdsOfHeaders({ "x-request-id": Buffer.from("a,b") })).toEqual(["a", "b"]);
    expect(requestIdsOfHeaders(undefined)).toEqual([]);
    expect(requestIdsOfBatch([record(1, "a"), record(2), record(3, "b,a"), record(4, "not an id")])).toEqual(["a", "b"]);
  });
});

describe("handleInRequestContext", () => {
  it("runs the handler inside the batch's ids and logs one line per handled batch", async () => {
    const raw: string[] = [];
    const log = createLogger("t", "info", { write: (l: string) => void raw.push(l) });
    const seen: Array<readonly string[]> = [];
    const handle = handleInRequestContext(async () => {
      seen.push(currentRequestIds());
      log.warn("inside");
    }, log);
    const ctl = { heartbeat: () => Promise.resolve(), isStopping: () => false };
    await handle({ topic: "t", partition: 3, messages: [record(7, "one")], highWatermark: "8" }, ctl);
    await handle({ topic: "t", partition: 3, messages: [record(8, "x"), record(9, "y")], highWatermark: "10" }, ctl);
    await handle({ topic: "t", partition: 3, messages: [record(10)], highWatermark: "11" }, ctl);
    expect(seen).toEqual([["one"], ["x", "y"], []]);
    const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.msg, l.request_id, l.request_ids])).toEqual([
      ["inside", "one", undefined],
      ["batch handled", "one", undefined],
      ["inside", undefined, ["x", "y"]],
      ["batch handled", undefined, ["x", "y"]],
      ["inside", undefined, undefined],
      ["batch handled", undefined, undefined],
    ]);
    expect(lines[1]).toMatchObject({ topic: "t", partition: 3, count: 1, firstOffset: "7", lastOffset: "7" });
  });

  it("a failing handler logs no 'handled' line and rethrows", async () => {
    const raw: string[] = [];
    const log = createLogger("t", "info", { write: (l: string) => void raw.push(l) });
    const handle = handleInRequestContext(() => Promise.reject(new Error("nope")), log);
    await expect(
      handle({ topic: "t", partition: 0, messages: [record(1, "r")], highWatermark: "2" }, { heartbeat: () => Promise.resolve(), isStopping: () => false }),
    ).rejects.toThrow("nope");
    expect(raw).toEqual([]);
  });
});
