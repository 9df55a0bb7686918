import { describe, expect, it } from "vitest";
import {
  decodePending,
  decodeTransition,
  encodePending,
  encodeTransition,
  isSource,
  isUserId,
  MalformedRecordError,
  oppositeAction,
} from "../src/domain/relation-transition.js";

describe("relation transition codecs", () => {
  it("round-trips a pending entry (the layout the Lua scripts share)", () => {
    const e = { action: "unfollow" as const, version: 1_795_566_567_118_974, timeMs: 1_795_566_567_118, source: -3, prevTimeMs: 1_795_566_000_000 };
    const text = encodePending(e);
    expect(text).toBe("u|1795566567118974|1795566567118|-3|1795566000000");
    expect(decodePending(42, text)).toEqual({ to: 42, ...e });
  });

  it("round-trips an outbox transition", () => {
    const t = { from: 7, to: 9, action: "follow" as const, version: 2 ** 52, occurredAtMs: 1_000, source: 2 };
    expect(decodeTransition(encodeTransition(t))).toEqual(t);
  });

  it.each(["", "x|1|2|3|4", "f|1|2|3", "f|1|2|3|4|5", "f|1.5|2|3|4", `f|${2 ** 60}|2|3|4`, "f|-1|2|3|4"])("refuses a malformed pending entry %j", (text) => {
    expect(() => decodePending(1, text)).toThrow(MalformedRecordError);
  });

  it("refuses a malformed transition", () => {
    expect(() => decodeTransition("1|2|f|3|4")).toThrow(MalformedRecordError);
    expect(() => decodeTransition("1|2|z|3|4|5")).toThrow(MalformedRecordError);
  });

  it("knows ids, sources and opposites", () => {
    expect(isUserId(1)).toBe(true);
    expect(isUserId(0)).toBe(false);
    expect(isUserId(2 ** 53)).toBe(false);
    expect(isUserId(1.5)).toBe(false);
    expect(isSource(-(2 ** 31))).toBe(true);
    expect(isSource(2 ** 31)).toBe(false);
    expect(oppositeAction("follow")).toBe("unfollow");
    expect(oppositeAction("unfollow")).toBe("follow");
  });
});
