import { describe, expect, it } from "vitest";
import { pairedRatio } from "../lib/paired-ratio.js";

const run = (rps: number, name = "row") => ({ name, rps });

describe("pairedRatio", () => {
  it("is the one pair's ratio for one pair", () => {
    const r = pairedRatio([{ echo: run(10_000, "echo"), row: run(5_400) }]);
    expect(r).toEqual({ median: run(5_400), ratio: 0.54, ratios: [0.54], echo: run(10_000, "echo") });
  });

  it("takes each row against its own echo, not against one echo for all", () => {
    // the machine halves its speed between the pairs: each pair's ratio is still 0.5
    const r = pairedRatio([
      { echo: run(12_000, "echo"), row: run(6_000) },
      { echo: run(6_000, "echo"), row: run(3_000) },
      { echo: run(9_000, "echo"), row: run(4_500) },
    ]);
    expect(r.ratios).toEqual([0.5, 0.5, 0.5]);
    expect(r.ratio).toBe(0.5);
  });

  it("is the median pair by ratio, with that pair's own run and echo", () => {
    const r = pairedRatio([
      { echo: run(10_000, "echo"), row: run(6_100, "high") },
      { echo: run(8_000, "echo"), row: run(3_200, "low") },
      { echo: run(11_000, "echo"), row: run(5_500, "mid") },
    ]);
    expect(r.ratios).toEqual([0.61, 0.4, 0.5]);
    expect(r.ratio).toBe(0.5);
    expect(r.median.name).toBe("mid");
    expect(r.echo.rps).toBe(11_000);
  });

  it("of an even count takes the lower middle pair", () => {
    const r = pairedRatio([
      { echo: run(100), row: run(70) },
      { echo: run(100), row: run(40) },
      { echo: run(100), row: run(60) },
      { echo: run(100), row: run(50) },
    ]);
    expect(r.ratio).toBe(0.5);
  });

  it("refuses no pairs, and gives 0 against an echo that answered nothing", () => {
    expect(() => pairedRatio([])).toThrow(RangeError);
    expect(pairedRatio([{ echo: run(0), row: run(10) }]).ratio).toBe(0);
  });
});
