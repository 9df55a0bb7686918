import { describe, expect, it } from "vitest";
import { emptyTally, failures, formatTable, type PhaseResult } from "../report.js";
import { BEGIN, END, upsertGenerated } from "../doc.js";
import { chaosEnv } from "../env.js";

const phase = (o: Partial<PhaseResult> = {}): PhaseResult => ({
  fault: "Kafka unreachable 10 s",
  how: "SIGSTOP",
  tally: { ...emptyTally(), writes: 300, reads: 100, ackedWrites: 250, ackedReads: 98, http4xx: 1, clientFailures: 2, unavailableDuringFault: 49 },
  lost: 0,
  divergent: 0,
  convergeSeconds: 4.25,
  faultWindowMs: [3000, 13000],
  findings: [],
  staleAnswers: [],
  other5xxExamples: [],
  answers: {},
  ...o,
});

describe("the harness report", () => {
  it("formats one aligned Markdown row per phase with the issue's columns", () => {
    const t = formatTable([
      phase(),
      phase({ fault: "a|b", convergeSeconds: null, lost: 3, tally: { ...emptyTally(), other5xx: 2, unavailableDuringFault: 1 } }),
    ]).split("\n");
    expect(t[0]).toMatch(/^\| fault +\| operations +\| acknowledged +\| client errors \| 5xx +\| lost \| divergent \| seconds to converge \|$/);
    expect(t[1]).toMatch(/^\|-+\|/);
    const cells = t[2]!.split(" | ").map((c) => c.replace(/^\|/, "").trim());
    expect(cells.slice(1, 5)).toEqual(["400 (300 w, 100 r)", "348 (250 w)", "3", "49"]);
    expect(t[2]).toMatch(/\| 4\.3 +\|$/);
    expect(t[3]).toContain("a\\|b");
    expect(t[3]).toContain("3 (2 not 503-while-down)");
    expect(t[3]).toContain("not converged");
    expect(new Set(t.map((l) => l.length)).size).toBe(1);
  });

  it("passes a clean phase and names every way a phase misses the bar", () => {
    const bar = { convergeBoundSeconds: 60 };
    expect(failures([phase()], bar)).toEqual([]);
    expect(failures([phase({ lost: 1, divergent: 2, convergeSeconds: null, tally: { ...emptyTally(), other5xx: 1 } })], bar)).toEqual([
      "Kafka unreachable 10 s: 1 lost",
      "Kafka unreachable 10 s: 2 divergent",
      "Kafka unreachable 10 s: not converged within 60 s",
      "Kafka unreachable 10 s: 1 5xx other than a 503 while the dependency was down",
    ]);
    expect(failures([phase({ error: "fault did not heal: kafka not ready" })], bar)).toEqual(["Kafka unreachable 10 s: fault did not heal: kafka not ready"]);
  });
});

describe("the docs/reliability.md section", () => {
  const others = "# Reliability\n\n## Bounds\n\ntheirs\n\n## Counts repair\n\nalso theirs\n";

  it("adds the section at the end, keeping every other section", () => {
    const doc = upsertGenerated(others, "TABLE 1");
    expect(doc.startsWith(others.trimEnd())).toBe(true);
    expect(doc).toContain(`## Fault harness\n\n${BEGIN}\n\nTABLE 1\n\n${END}\n`);
  });

  it("replaces only what is between the markers, keeping the prose around them and later sections", () => {
    const first = upsertGenerated(others, "TABLE 1").replace(BEGIN, `How it works.\n\n${BEGIN}`) + "\n## Later\n\nmore\n";
    const second = upsertGenerated(first, "TABLE 2");
    expect(second).toContain("How it works.");
    expect(second).toContain("TABLE 2");
    expect(second).not.toContain("TABLE 1");
    expect(second).toContain("## Later\n\nmore\n");
    expect(second).toContain("## Counts repair\n\nalso theirs");
  });

  it("puts the markers at the end of an existing Fault harness section that has none", () => {
    const doc = "# R\n\n## Fault harness\n\nprose\n\n## Other\n\nx\n";
    expect(upsertGenerated(doc, "T")).toBe(`# R\n\n## Fault harness\n\nprose\n\n${BEGIN}\n\nT\n\n${END}\n\n## Other\n\nx\n`);
  });
});

describe("the chaos instance's environment", () => {
  it("moves every port by the offset, apart from the default ones, with its own data folder and no Jaeger or Prometheus", () => {
    const table = {
      a: { name: "A", variable: "RS_A_PORT", port: 13306 },
      b: { name: "B", variable: "RS_B_PORT", port: 8888 },
    };
    const env = chaosEnv(table, { root: "/repo", offset: 10_000 });
    expect(env.RS_A_PORT).toBe("23306");
    expect(env.RS_B_PORT).toBe("18888");
    expect(env.RS_DATA_DIR).toBe("/repo/.data/chaos");
    expect(env.RS_JAEGER).toBe("0");
    expect(env.RS_PROMETHEUS).toBe("0");
    expect(() => chaosEnv(table, { root: "/repo", offset: 60_000 })).toThrow(/RS_A_PORT/);
  });
});
