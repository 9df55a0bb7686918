import { describe, expect, it } from "vitest";
import { pickEndpoint, type PickCandidate } from "../src/client/endpoint-picker.js";

const c = (id: string, health: PickCandidate["health"]): PickCandidate => ({ id, health });
const none = new Set<string>();
const pickIds = (candidates: PickCandidate[], tried: Set<string>, turns: number) =>
  Array.from({ length: turns }, (_, turn) => candidates[pickEndpoint(candidates, tried, turn)]?.id);

describe("pickEndpoint", () => {
  it("round-robins over connected endpoints", () => {
    expect(pickIds([c("a", "ready"), c("b", "ready"), c("c", "ready")], none, 6)).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  it("skips an endpoint whose connection failed while others are connected", () => {
    expect(pickIds([c("a", "failing"), c("b", "ready")], none, 4)).toEqual(["b", "b", "b", "b"]);
  });

  it("prefers connected over connecting, connecting over failing", () => {
    expect(pickIds([c("a", "connecting"), c("b", "ready")], none, 2)).toEqual(["b", "b"]);
    expect(pickIds([c("a", "failing"), c("b", "connecting")], none, 2)).toEqual(["b", "b"]);
  });

  it("sends a retry elsewhere when there is anywhere else", () => {
    const tried = new Set(["a"]);
    expect(pickIds([c("a", "ready"), c("b", "connecting")], tried, 2)).toEqual(["b", "b"]);
    // Only "a" is connected: retrying on it beats an endpoint that is failing.
    expect(pickIds([c("a", "ready"), c("b", "failing")], tried, 2)).toEqual(["a", "a"]);
  });

  it("falls back to failing endpoints rather than giving up, and to -1 when there are none", () => {
    expect(pickIds([c("a", "failing"), c("b", "failing")], none, 2)).toEqual(["a", "b"]);
    expect(pickEndpoint([], none, 0)).toBe(-1);
  });
});
