import { describe, expect, it } from "vitest";
import { RECONNECT_BASE_DELAY_MS, reconnectDelay } from "../src/redis-client.js";

describe("reconnectDelay", () => {
  it("grows from the base delay and never exceeds the cap", () => {
    const cap = 2_000;
    for (let attempt = 1; attempt <= 200; attempt++) {
      const d = reconnectDelay(attempt, cap, Number.POSITIVE_INFINITY);
      expect(d).not.toBeNull();
      const ceiling = Math.min(cap, RECONNECT_BASE_DELAY_MS * 2 ** (attempt - 1));
      expect(d!).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
      expect(d!).toBeLessThanOrEqual(ceiling);
    }
  });

  it("stops (null) after the maximum number of attempts", () => {
    expect(reconnectDelay(3, 1_000, 3)).not.toBeNull();
    expect(reconnectDelay(4, 1_000, 3)).toBeNull();
  });
});
