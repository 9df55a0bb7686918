/**
 * The request context: ids follow async work, nest and clear; the logger adds
 * them to every line written inside (no tracing involved); header values
 * round-trip and junk is dropped.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  MAX_REQUEST_IDS,
  createLogger,
  currentRequestId,
  currentRequestIds,
  formatRequestIds,
  parseRequestIds,
  withRequestId,
  withRequestIds,
} from "../src/index.js";

function captured() {
  const raw: string[] = [];
  const logger = createLogger("test", "info", { write: (line: string) => void raw.push(line) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("request context", () => {
  it("follows awaits and timers, nests, and is empty outside", async () => {
    expect(currentRequestIds()).toEqual([]);
    await withRequestId("outer-1", async () => {
      await sleep(1);
      expect(currentRequestId()).toBe("outer-1");
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          expect(currentRequestId()).toBe("outer-1");
          resolve();
        }, 1),
      );
      withRequestIds(["a", "b"], () => {
        expect(currentRequestIds()).toEqual(["a", "b"]);
        expect(currentRequestId()).toBeUndefined();
      });
      withRequestId(undefined, () => expect(currentRequestIds()).toEqual([]));
      expect(currentRequestId()).toBe("outer-1");
    });
    expect(currentRequestId()).toBeUndefined();
  });

  it("keeps concurrent requests apart", async () => {
    const seen = await Promise.all(
      ["r1", "r2", "r3"].map((id, i) =>
        withRequestId(id, async () => {
          await sleep(5 - i);
          return currentRequestId();
        }),
      ),
    );
    expect(seen).toEqual(["r1", "r2", "r3"]);
  });
});

describe("the logger", () => {
  it("adds request_id (one) or request_ids (several) to every line inside, nothing outside", async () => {
    const { logger, lines } = captured();
    logger.info("before");
    await withRequestId("req-7", async () => {
      logger.info("direct");
      await sleep(1);
      logger.child({ component: "x" }).warn({ k: 1 }, "child, after an await");
    });
    withRequestIds(["b-1", "b-2"], () => logger.info("batch"));
    expect(lines().map((l) => [l.msg, l.request_id, l.request_ids])).toEqual([
      ["before", undefined, undefined],
      ["direct", "req-7", undefined],
      ["child, after an await", "req-7", undefined],
      ["batch", undefined, ["b-1", "b-2"]],
    ]);
    expect(lines().every((l) => l.trace_id === undefined)).toBe(true);
  });
});

describe("header values", () => {
  it("one id or a comma-separated list, distinct, malformed ids dropped", () => {
    expect(formatRequestIds([])).toBeUndefined();
    expect(formatRequestIds(["a", "b", "a"])).toBe("a,b");
    expect(parseRequestIds("a,b")).toEqual(["a", "b"]);
    expect(parseRequestIds(Buffer.from("x-1"))).toEqual(["x-1"]);
    expect(parseRequestIds(["a", Buffer.from("b,a")])).toEqual(["a", "b"]);
    expect(parseRequestIds(["bad id", "ok", "", "x".repeat(65), "tab\tid"])).toEqual(["ok"]);
    expect(parseRequestIds(undefined)).toEqual([]);
    expect(parseRequestIds(42)).toEqual([]);
  });

  it("at most MAX_REQUEST_IDS in one value", () => {
    const many = Array.from({ length: MAX_REQUEST_IDS + 5 }, (_, i) => `id-${i}`);
    expect(parseRequestIds(formatRequestIds(many))).toHaveLength(MAX_REQUEST_IDS);
  });
});
