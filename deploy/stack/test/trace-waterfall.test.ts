import { describe, expect, it } from "vitest";
import { foreignLinks, formatWaterfall, orderSpans, rootSpan, spanError, type JaegerSpan, type JaegerTrace } from "../trace-waterfall.js";

const T = "aaaa";
function span(id: string, op: string, start: number, duration: number, extra: Partial<JaegerSpan> = {}): JaegerSpan {
  return { traceID: T, spanID: id, operationName: op, startTime: 1_000_000 + start, duration, processID: extra.processID ?? "p1", ...extra };
}
const child = (parent: string) => [{ refType: "CHILD_OF" as const, traceID: T, spanID: parent }];

const trace: JaegerTrace = {
  traceID: T,
  processes: { p1: { serviceName: "gateway" }, p2: { serviceName: "relation" } },
  spans: [
    span("c", "send events", 3_000, 1_000, { references: child("b"), processID: "p2" }),
    span("b", "Follow", 1_000, 5_000, {
      references: child("a"),
      processID: "p2",
      tags: [
        { key: "otel.status_code", value: "ERROR" },
        { key: "otel.status_description", value: "broker down" },
      ],
    }),
    span("a", "POST /follow", 0, 10_000),
    span("d", "process events", 8_000, 500, { references: [...child("c"), { refType: "FOLLOWS_FROM", traceID: "bbbb", spanID: "x" }], processID: "p2" }),
  ],
};

describe("the trace waterfall", () => {
  it("orders spans depth-first under their parents, by start time", () => {
    expect(orderSpans(trace).map(({ span, depth }) => `${depth}:${span.spanID}`)).toEqual(["0:a", "1:b", "2:c", "3:d"]);
    expect(rootSpan(trace)?.spanID).toBe("a");
  });

  it("finds errors and links to other traces", () => {
    expect(spanError(trace.spans[1]!)).toBe("broker down");
    expect(spanError(trace.spans[0]!)).toBeUndefined();
    expect(foreignLinks(trace).map((r) => r.traceID)).toEqual(["bbbb"]);
  });

  it("prints service, operation, offset, duration, a bar and the error on each line", () => {
    const lines = formatWaterfall(trace, { barWidth: 10 });
    expect(lines[0]).toContain("trace aaaa  gateway: POST /follow");
    expect(lines[1]).toContain("4 spans, 2 services (gateway, relation), 10.0 ms, 1 with errors");
    const follow = lines.find((l) => l.includes("Follow"))!;
    expect(follow).toMatch(/1\.00 ms\s+5\.00 ms\s+ █████\s+relation\s+├─ Follow|1\.00 ms\s+5\.00 ms\s+ █████\s+relation\s+└─ Follow/);
    expect(follow).toContain("ERROR: broker down");
    expect(lines.find((l) => l.includes("process events"))).toContain("[1 link]");
  });

  it("keeps a span whose parent was not exported, at the top level", () => {
    const orphan: JaegerTrace = { ...trace, spans: [span("z", "lost", 0, 10, { references: child("missing") })] };
    expect(orderSpans(orphan).map(({ depth }) => depth)).toEqual([0]);
  });
});
