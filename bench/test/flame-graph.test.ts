import { describe, expect, it } from "vitest";
import { flameSvg, mergeStacks, shortUrl, topFrames, type CpuProfile } from "../lib/flame-graph.js";

const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 0 });
/** (root) → main → {work → leaf, leaf}, (idle), (garbage collector); one sample every 0.5 s. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)"), children: [2, 6, 7] },
    { id: 2, callFrame: frame("main", "file:///repo/services/a.ts"), children: [3, 5] },
    { id: 3, callFrame: frame("work", "file:///repo/node_modules/.pnpm/x@1/node_modules/x/index.js"), children: [4] },
    { id: 4, callFrame: frame("leaf", "node:internal/x") },
    { id: 5, callFrame: frame("leaf", "node:internal/x") },
    { id: 6, callFrame: frame("(idle)") },
    { id: 7, callFrame: frame("(garbage collector)") },
  ],
  startTime: 0,
  endTime: 3_000_000,
  samples: [6, 4, 4, 5, 2, 7],
  timeDeltas: [500_000, 500_000, 500_000, 500_000, 500_000, 500_000],
};

describe("flame graph of a cpuprofile", () => {
  it("merges the stacks under V8's root, self and total per frame, pseudo-frames apart", () => {
    const tree = mergeStacks(profile, { root: "/repo" });
    expect(tree.total).toBe(6);
    const main = tree.children.get("main services/a.ts")!;
    expect([main.total, main.self]).toEqual([4, 1]);
    expect(main.children.get("work x/index.js")!.total).toBe(2);
    expect(tree.children.get("(idle)")!.total).toBe(1);
    expect(tree.children.get("(garbage collector)")!.total).toBe(1);
  });

  it("keeps only the samples of the window", () => {
    // samples at 0.5, 1.0, 1.5, 2.0, 2.5, 3.0 s: 1.0–2.0 holds leaf, leaf, leaf
    const tree = mergeStacks(profile, { from: 1, to: 2, root: "/repo" });
    expect(tree.total).toBe(3);
    expect(tree.children.has("(idle)")).toBe(false);
  });

  it("counts a frame once per stack in the top list, and leaves hidden roots out", () => {
    const { inclusive, self } = topFrames(mergeStacks(profile, { root: "/repo" }), 3, ["(idle)"]);
    expect(inclusive).toEqual([
      ["main services/a.ts", 4],
      ["leaf node:internal/x", 3],
      ["work x/index.js", 2],
    ]);
    expect(self[0]).toEqual(["leaf node:internal/x", 3]);
  });

  it("draws frames as wide as their samples, without the hidden ones", () => {
    const svg = flameSvg(mergeStacks(profile, { root: "/repo" }), { width: 500, title: "t", hide: ["(idle)"] });
    // 5 samples shown over 500 px: main is 4 of them
    expect(svg).toMatch(/<title>main services\/a.ts: 4 samples \(80.0 %\), self 1<\/title><rect x="0.00" y="\d+" width="399.50"/);
    expect(svg).not.toContain("<title>(idle)");
  });

  it("shortens paths to the package or the repository", () => {
    expect(shortUrl("file:///w/node_modules/.pnpm/a@1/node_modules/a/lib/b.js", "/w")).toBe("a/lib/b.js");
    expect(shortUrl("file:///w/pkg/x/src/y.ts", "/w")).toBe("pkg/x/src/y.ts");
    expect(shortUrl("node:net", "/w")).toBe("node:net");
  });
});
