import { describe, expect, it } from "vitest";
import { ShardMapError, defaultShardMap, formatShardMap, parseShardMap, shardMapMoves, virtualShardOf } from "../src/index.js";

function problems(spec: string, v = 64, p = 2): readonly string[] {
  try {
    parseShardMap(spec, v, p);
  } catch (err) {
    expect(err).toBeInstanceOf(ShardMapError);
    return (err as ShardMapError).problems;
  }
  throw new Error(`expected "${spec}" to be refused`);
}

describe("parseShardMap", () => {
  it("reads ranges and single shards", () => {
    const map = parseShardMap(" 0-31=0, 32-62 = 1,63=0 ", 64, 2);
    expect(map).toHaveLength(64);
    expect(map.slice(0, 32).every((p) => p === 0)).toBe(true);
    expect(map.slice(32, 63).every((p) => p === 1)).toBe(true);
    expect(map[63]).toBe(0);
  });

  it("defaults to contiguous ranges spread evenly", () => {
    expect(parseShardMap(undefined, 64, 2)).toEqual(parseShardMap("0-31=0,32-63=1", 64, 2));
    expect(parseShardMap("  ", 8, 1)).toEqual(new Array(8).fill(0));
    expect(formatShardMap(defaultShardMap(64, 3))).toBe("0-21=0,22-42=1,43-63=2");
    expect(formatShardMap(defaultShardMap(64, 4))).toBe("0-15=0,16-31=1,32-47=2,48-63=3");
  });

  it("round-trips through its canonical text form", () => {
    const map = parseShardMap("0-9=1,10=0,11-63=1", 64, 2);
    expect(formatShardMap(map)).toBe("0-9=1,10=0,11-63=1");
    expect(parseShardMap(formatShardMap(map), 64, 2)).toEqual(map);
  });

  it("names an overlap with both entries and the shards they share", () => {
    expect(problems("0-31=0,30-63=1")).toEqual(['overlap: virtual shards 30-31 are assigned by both "0-31=0" and "30-63=1"']);
  });

  it("names a gap", () => {
    expect(problems("0-9=0,20-63=1")).toEqual(["gap: virtual shards 10-19 are not assigned"]);
    expect(problems("1-62=0")).toEqual(["gap: virtual shards 0, 63 are not assigned"]);
  });

  it("names a virtual or physical shard out of range", () => {
    expect(problems("0-31=0,32-64=1")).toEqual(['entry "32-64=1": virtual shard 64 out of range (there are 64: 0-63)']);
    expect(problems("0-31=0,32-63=2")).toEqual(['entry "32-63=2": physical shard 2 out of range (there are 2 DSNs: 0-1)']);
  });

  it("names malformed entries, backwards ranges and stray commas, all at once", () => {
    expect(problems("0-31=0,,32-63=x,40-35=1")).toEqual([
      "empty entry (stray comma?)",
      'entry "32-63=x" is not <from>-<to>=<physical> or <virtual>=<physical>',
      'entry "40-35=1": range runs backwards (40 > 35)',
      "gap: virtual shards 32-63 are not assigned",
    ]);
  });

  it("refuses more databases than virtual shards by default", () => {
    expect(() => parseShardMap(undefined, 2, 3)).toThrow(ShardMapError);
  });
});

describe("changing the shard map", () => {
  const before = parseShardMap("0-31=0,32-63=1", 64, 3);
  // A third database takes over virtual shards 48-63, nothing else.
  const after = parseShardMap("0-31=0,32-47=1,48-63=2", 64, 3);

  it("moves exactly the virtual shards whose entry changed", () => {
    expect(shardMapMoves(before, after)).toEqual(Array.from({ length: 16 }, (_, i) => 48 + i));
    expect(shardMapMoves(before, before)).toEqual([]);
  });

  it("leaves every id outside the moved virtual shards where it was", () => {
    const moved = new Set(shardMapMoves(before, after));
    let movedIds = 0;
    for (let i = 0; i < 20_000; i++) {
      const id = 1_000_000_000 + i * 7919;
      const v = virtualShardOf(id, 64);
      if (moved.has(v)) {
        movedIds++;
        expect(after[v]).toBe(2);
      } else {
        expect(after[v]).toBe(before[v]);
      }
    }
    // 16 of 64 virtual shards: about a quarter of the ids move.
    expect(movedIds / 20_000).toBeGreaterThan(0.2);
    expect(movedIds / 20_000).toBeLessThan(0.3);
  });

  it("refuses to compare maps over different numbers of virtual shards", () => {
    expect(() => shardMapMoves(before, parseShardMap(undefined, 32, 2))).toThrow(/virtual shards are fixed/);
  });
});
