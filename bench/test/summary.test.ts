import { describe, expect, it } from "vitest";
import { BEGIN_MARKER, END_MARKER, renderSummary, replaceSummary, summaryRows } from "../lib/summary.js";

const relation = {
  at: "2026-12-01T10:00:00.000Z",
  results: [
    { name: "echo (bare grpc-js)", rps: 10_000, p99Ms: 8, ratioToEcho: 1 },
    { name: "IsFollowing (cached)", rps: 9_500, p99Ms: 9.5, ratioToEcho: 0.95 },
    { name: "BatchIsFollowing(100) (cached)", rps: 3_000, p99Ms: 20, ratioToEcho: 0.3 },
    {
      name: "ListFollowing(20) + profiles",
      rps: 2_000,
      p99Ms: 40,
      ratioToEcho: 0.2,
      serverCpuMicrosPerCall: 400,
      userCpuMicrosPerCall: 150,
      redisCpuMicrosPerCall: 50,
    },
  ],
};
const redis = {
  rows: [
    { what: "following:{A}, 5000 follows", entries: 5_000, perEntry: 129.35 },
    { what: "counter bucket, 256 counters", entries: 256, perEntry: 10.28 },
    { what: "counter bucket, 512 counters", entries: 512, perEntry: 10.14 },
  ],
};

describe("summary against the targets", () => {
  const rows = summaryRows({ "relation-bench": relation, "redis-memory": redis });
  const row = (start: string) => rows.find((r) => r.target.startsWith(start))!;

  it("says met when every bound holds", () => {
    expect(row("IsFollowing").status).toBe("met");
    expect(row("IsFollowing").measured).toBe("0.95 × echo, p99 9.5 ms (relation-bench, 2026-12-01); machine floor in the same run: echo p99 8 ms");
    expect(row("≤ 12 B").status).toBe("met");
  });

  it("says by how much a bound is missed, for each bound missed", () => {
    expect(row("BatchIsFollowing").status).toBe("not met: 0.3 × echo (−50 % of ≥ 0.6 ×)");
    // ratio 0.2 of 0.4, and 400 + 150 + 50 = 600 µs of ≤ 300
    expect(row("ListFollowing").status).toBe("not met: 0.2 × echo (−50 % of ≥ 0.4 ×); CPU 600 µs (+100 % of ≤ 300 µs)");
    expect(row("≤ 40 B").status).toBe("not met: B/edge (list of 5 000) 129 B (+223 % of ≤ 40 B)");
  });

  it("judges Redis memory per edge by the worst list measured", () => {
    const lists = (small: number) => ({
      rows: [
        { what: "following:{A}, 20 follows", entries: 20, perEntry: small },
        { what: "following:{A} + index, 5000 follows", entries: 5_000, perEntry: 31.2 },
      ],
    });
    const status = (small: number) => summaryRows({ "redis-memory": lists(small) }).find((r) => r.target.startsWith("≤ 40 B"))!;
    expect(status(27.2).status).toBe("met");
    expect(status(27.2).measured).toContain("B/edge (list of 5 000) 31.2 B");
    expect(status(44).status).toBe("not met: B/edge (list of 20) 44 B (+10 % of ≤ 40 B)");
  });

  it("shows the machine's floor measured in the same run beside the reads answered from Redis and the big account", () => {
    const withFloor = { ...relation, results: [...relation.results, { name: "echo + 1 Redis script (floor)", rps: 6_200, p99Ms: 12, ratioToEcho: 0.62 }] };
    const big = {
      at: "2026-12-02T10:00:00.000Z",
      depth: 900_000,
      fans: 1_000_000,
      results: [
        { name: "echo (bare grpc-js), c=10", concurrency: 10, p99Ms: 3.1 },
        { name: "ListFans(20) at depth 900000, c=10", concurrency: 10, p99Ms: 15 },
        { name: "GetCounts (big account), c=10", concurrency: 10, p99Ms: 4 },
        { name: "echo (bare grpc-js), c=50", concurrency: 50, p99Ms: 24.5 },
        { name: "ListFans(20) at depth 900000, c=50", concurrency: 50, p99Ms: 60 },
        { name: "GetCounts (big account), c=50", concurrency: 50, p99Ms: 26 },
      ],
    };
    const got = summaryRows({ "relation-bench": withFloor, "big-account": big });
    const floorOf = (start: string) => got.find((r) => r.target.startsWith(start))!.measured.split("; machine floor in the same run: ")[1];
    for (const t of ["IsFollowing", "BatchIsFollowing", "ListFollowing"]) expect(floorOf(t)).toBe("echo + 1 Redis script 0.62 × echo, echo p99 8 ms");
    expect(floorOf("big account")).toBe("echo p99 3.1 ms at c=10, 24.5 ms at c=50");
    // the echo rows are the floor, not a page: the worst page p99 is still the pages'
    // and, where the run measured it, what ghz spent per call of that row against per echo call
    const withGhz = {
      ...withFloor,
      results: withFloor.results.map((x) =>
        x.name.startsWith("echo (bare")
          ? { ...x, clientCpuMicrosPerCall: 71 }
          : x.name.startsWith("BatchIsFollowing")
            ? { ...x, clientCpuMicrosPerCall: 100 }
            : x,
      ),
    };
    const ghzOf = (start: string) => summaryRows({ "relation-bench": withGhz }).find((r) => r.target.startsWith(start))!.measured;
    expect(ghzOf("BatchIsFollowing")).toContain("echo p99 8 ms, ghz 100 µs of CPU per call (71 per echo call)");
    expect(ghzOf("IsFollowing")).not.toContain("ghz");
    // a row measured right after an echo run of its own (relation-bench's pairs) is set against that echo
    const withPairedEcho = {
      ...withGhz,
      results: withGhz.results.map((x) =>
        x.name.startsWith("BatchIsFollowing") ? { ...x, pairedEcho: { rps: 12_000, p99Ms: 14, clientCpuMicrosPerCall: 90 } } : x,
      ),
    };
    const pairedOf = (start: string) => summaryRows({ "relation-bench": withPairedEcho }).find((r) => r.target.startsWith(start))!.measured;
    expect(pairedOf("BatchIsFollowing")).toContain("echo p99 14 ms, ghz 100 µs of CPU per call (90 per echo call)");
    expect(pairedOf("ListFollowing")).toContain("echo p99 8 ms");
    expect(got.find((r) => r.target.startsWith("big account"))!.status).toBe(
      "not met: worst page p99 60 ms (+200 % of ≤ 20 ms); worst count p99 26 ms (+30 % of ≤ 20 ms)",
    );
  });

  it("marks a target whose bench has no result file as not measured", () => {
    expect(row("gateway `GET /api/user/me`")).toMatchObject({ measured: "not measured (no numbers in bench/results/gateway-bench.json)", status: "–" });
  });

  it("renders a markdown table between the markers and replaces only that block", () => {
    const block = renderSummary([{ target: "a | b", measured: "1", status: "met" }]);
    expect(block.split("\n")).toEqual([BEGIN_MARKER, "| target | measured | status |", "|---|---|---|", "| a \\| b | 1 | met |", END_MARKER]);
    const doc = `# Benchmarks\n\nby hand\n\n${BEGIN_MARKER}\nold table\n${END_MARKER}\n\nmore by hand\n`;
    expect(replaceSummary(doc, block)).toBe(`# Benchmarks\n\nby hand\n\n${block}\n\nmore by hand\n`);
    expect(() => replaceSummary("# no markers\n", block)).toThrow(/summary:begin/);
  });
});
