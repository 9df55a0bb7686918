/**
 * The "Summary against the targets" table of docs/benchmarks.md, made from the
 * benches' result files (bench/results/<name>.json) and the targets of
 * docs/design.md §10. Pure: bench/summary.ts reads the files and writes the doc.
 */

/** Parsed bench/results/<name>.json files by name (relation-bench, gateway-bench, ...). */
export type Results = Readonly<Record<string, unknown>>;

/** One bound of a target: the measured value, and whether more or less is better. */
interface Check {
  readonly label: string;
  readonly value: number;
  readonly bound: number;
  readonly atLeast: boolean;
  readonly unit?: string;
}

interface Target {
  readonly target: string;
  /** The result file it reads. */
  readonly bench: string;
  /** Its checks, or undefined when the file lacks the numbers. */
  checks(r: Record<string, unknown>): Check[] | undefined;
  /** What the machine itself allows in the same run (a baseline that does the least such a call must do), when measured. */
  floor?(r: Record<string, unknown>): string | undefined;
}

/** relation-bench's row of the echo server that also runs one trivial Lua script per call: the floor of any read answered from Redis. */
export const REDIS_FLOOR_ROW = "echo + 1 Redis script (floor)";
/** The bare echo's row in every gRPC bench (big-account adds ", c=N"): the baseline of the ratios, and the machine's own p99. */
export const ECHO_ROW = "echo (bare grpc-js)";

export interface SummaryRow {
  readonly target: string;
  readonly measured: string;
  readonly status: string;
}

type Row = Record<string, unknown> & { name?: string; key?: string };
const rowsOf = (r: Record<string, unknown>) => (Array.isArray(r.results) ? (r.results as Row[]) : Array.isArray(r.rows) ? (r.rows as Row[]) : []);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const byName = (r: Record<string, unknown>, prefix: string) => rowsOf(r).find((x) => typeof x.name === "string" && x.name.startsWith(prefix));
const byKey = (r: Record<string, unknown>, key: string) => rowsOf(r).find((x) => x.key === key);

const atLeast = (label: string, value: number | undefined, bound: number, unit?: string): Check | undefined =>
  value === undefined ? undefined : { label, value, bound, atLeast: true, unit };
const atMost = (label: string, value: number | undefined, bound: number, unit?: string): Check | undefined =>
  value === undefined ? undefined : { label, value, bound, atLeast: false, unit };
/** All checks, or undefined if any number is missing. */
const all = (...checks: (Check | undefined)[]) => (checks.every((c) => c !== undefined) ? (checks as Check[]) : undefined);

/**
 * "echo + 1 Redis script 0.62 × echo, echo p99 25 ms, ghz 100 µs of CPU per call (71 per echo call)": what a call
 * answered from Redis can reach on this machine, in the same run, and what the load generator on the same cores
 * spent per call of the row (`prefix`) against per call of the echo, when the run measured it. The echo is the run
 * paired with the row where there is one.
 */
const redisFloor = (prefix: string) => (r: Record<string, unknown>) => {
  const floor = num(byName(r, REDIS_FLOOR_ROW)?.ratioToEcho);
  const row = byName(r, prefix);
  // the echo run measured right before the row (relation-bench pairs them), else the run's echo row
  const echo = typeof row?.pairedEcho === "object" && row.pairedEcho !== null ? (row.pairedEcho as Row) : byName(r, ECHO_ROW);
  const echoP99 = num(echo?.p99Ms);
  const [ghz, ghzEcho] = [num(row?.clientCpuMicrosPerCall), num(echo?.clientCpuMicrosPerCall)];
  const parts = [
    floor === undefined ? undefined : `echo + 1 Redis script ${fmt(floor)} × echo`,
    echoP99 === undefined ? undefined : `echo p99 ${fmt(echoP99)} ms`,
    ghz === undefined || ghzEcho === undefined ? undefined : `ghz ${fmt(ghz)} µs of CPU per call (${fmt(ghzEcho)} per echo call)`,
  ];
  return parts.some((p) => p !== undefined) ? parts.filter((p) => p !== undefined).join(", ") : undefined;
};

/** A relation-bench call's ratio to the echo baseline. */
const relationRatio = (prefix: string, bound: number) => (r: Record<string, unknown>) =>
  all(atLeast("× echo", num(byName(r, prefix)?.ratioToEcho), bound, "×"));
/** A gateway-bench route's ratio to the 404 floor. */
const gatewayRatio = (key: string, bound: number) => (r: Record<string, unknown>) => all(atLeast("× 404", num(byKey(r, key)?.ratioToFloor), bound, "×"));

/** The targets of docs/design.md §10, in its order. */
export const TARGETS: readonly Target[] = [
  {
    target: "ListFollowing(20) with profiles + is_follow: ≥ 0.4 × echo, ≤ 300 µs CPU per call (relation + user + Redis)",
    bench: "relation-bench",
    checks: (r) => {
      const row = byName(r, "ListFollowing");
      const parts = [row?.serverCpuMicrosPerCall, row?.userCpuMicrosPerCall, row?.redisCpuMicrosPerCall].map(num);
      const cpu = parts.every((p) => p !== undefined) ? parts.reduce((a, b) => a! + b!, 0) : undefined;
      return all(atLeast("× echo", num(row?.ratioToEcho), 0.4, "×"), atMost("CPU", cpu, 300, "µs"));
    },
    floor: redisFloor("ListFollowing"),
  },
  {
    target: "BatchIsFollowing(100) ≥ 0.6 × echo",
    bench: "relation-bench",
    checks: relationRatio("BatchIsFollowing", 0.6),
    floor: redisFloor("BatchIsFollowing"),
  },
  {
    target: "IsFollowing ≥ 0.9 × echo, p99 ≤ 10 ms at c=50",
    bench: "relation-bench",
    checks: (r) => all(atLeast("× echo", num(byName(r, "IsFollowing")?.ratioToEcho), 0.9, "×"), atMost("p99", num(byName(r, "IsFollowing")?.p99Ms), 10, "ms")),
    floor: redisFloor("IsFollowing"),
  },
  { target: "gateway `GET /api/user/me` ≥ 0.5 × its cheapest route (404)", bench: "gateway-bench", checks: gatewayRatio("me", 0.5) },
  {
    target: "gateway list route (`/api/relation/following`, 20 + profiles) ≥ 0.5 × its cheapest route",
    bench: "gateway-bench",
    checks: gatewayRatio("list", 0.5),
  },
  { target: "gateway follow (acked by Kafka) ≥ 0.3 × its cheapest route", bench: "gateway-bench", checks: gatewayRatio("follow", 0.3) },
  {
    target: "persister full pipeline ≥ 0.5 × raw multi-row insert at batch 1 000",
    bench: "persist-bench",
    checks: (r) => {
      const at1000 = (Array.isArray(r.throughput) ? (r.throughput as Row[]) : []).find((t) => t.batchSize === 1_000);
      return all(atLeast("× raw", num(at1000?.pipelineVsRaw), 0.5, "×"));
    },
  },
  {
    target: "persister lag p99 < 1 s at 10 000 follows/s",
    bench: "persist-bench",
    checks: (r) => {
      const lag = r.lag as { offeredPerSecond?: number; afterWarmupMs?: { p99?: number } } | undefined;
      return all(atLeast("offered", num(lag?.offeredPerSecond), 10_000, "/s"), atMost("p99", num(lag?.afterWarmupMs?.p99), 1_000, "ms"));
    },
  },
  {
    target: "big account: fans page at depth 900 000 of 1 000 000 fans, and its count, p99 ≤ 20 ms",
    bench: "big-account",
    checks: (r) => {
      const p99 = (prefix: string) => {
        const ps = rowsOf(r)
          .filter((x) => typeof x.name === "string" && x.name.startsWith(prefix))
          .map((x) => num(x.p99Ms));
        return ps.length > 0 && ps.every((p) => p !== undefined) ? Math.max(...(ps as number[])) : undefined;
      };
      return all(
        atLeast("depth", num(r.depth), 900_000),
        atLeast("fans", num(r.fans), 1_000_000),
        atMost("worst page p99", p99("ListFans(20) at depth"), 20, "ms"),
        atMost("worst count p99", p99("GetCounts"), 20, "ms"),
      );
    },
    floor: (r) => {
      const echo = rowsOf(r).filter((x) => typeof x.name === "string" && x.name.startsWith(ECHO_ROW));
      const shown = echo.map((x) => ({ c: num(x.concurrency), p99: num(x.p99Ms) })).filter((x) => x.c !== undefined && x.p99 !== undefined);
      return shown.length > 0 ? `echo p99 ${shown.map((x) => `${fmt(x.p99!)} ms at c=${x.c}`).join(", ")}` : undefined;
    },
  },
  {
    target: "≤ 40 B of Redis per cached edge (lists of 5 000 and smaller)",
    bench: "redis-memory",
    checks: (r) => {
      // the worst of the lists measured (16, 20, 100 and 5 000 follows), named by its size
      const lists = rowsOf(r).filter((x) => String(x.what).startsWith("following") && num(x.perEntry) !== undefined);
      const worst = lists.reduce<(typeof lists)[number] | undefined>((w, x) => (w === undefined || num(x.perEntry)! > num(w.perEntry)! ? x : w), undefined);
      const size = worst === undefined ? "" : ` (list of ${fmt(num(worst.entries) ?? 0)})`;
      return all(atMost(`B/edge${size}`, worst === undefined ? undefined : num(worst.perEntry), 40, "B"));
    },
  },
  {
    target: "≤ 12 B of Redis per cached counter",
    bench: "redis-memory",
    checks: (r) => {
      const per = rowsOf(r)
        .filter((x) => String(x.what).startsWith("counter"))
        .map((x) => num(x.perEntry));
      return all(atMost("B/counter", per.length > 0 && per.every((p) => p !== undefined) ? Math.max(...(per as number[])) : undefined, 12, "B"));
    },
  },
];

const fmt = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en-US").replace(/,/g, " ") : String(Number(v.toFixed(2))));
const withUnit = (v: number, unit?: string) => (unit?.startsWith("/") ? `${fmt(v)}${unit}` : unit ? `${fmt(v)} ${unit}` : fmt(v));
/** "0.15 × echo" for a ratio, "p99 9.5 ms" for the rest. */
const show = (c: Check) => (c.label.startsWith("×") ? `${fmt(c.value)} ${c.label}` : `${c.label} ${withUnit(c.value, c.unit)}`);
const met = (c: Check) => (c.atLeast ? c.value >= c.bound : c.value <= c.bound);

/** "0.15 × echo (−62 % of ≥ 0.4 ×)": the value and how far it is from the bound, in the bound's own terms. */
function describe(c: Check): string {
  const off = Math.round((c.value / c.bound - 1) * 100);
  return `${show(c)} (${off > 0 ? "+" : off < 0 ? "−" : "±"}${Math.abs(off)} % of ${c.atLeast ? "≥" : "≤"} ${withUnit(c.bound, c.unit)})`;
}

/** One row per target: what was measured, and met / not met with by how much (misses first), or "not measured". */
export function summaryRows(results: Results): SummaryRow[] {
  return TARGETS.map((t) => {
    const file = results[t.bench] as Record<string, unknown> | undefined;
    const checks = file ? t.checks(file) : undefined;
    if (!checks) return { target: t.target, measured: `not measured (no numbers in bench/results/${t.bench}.json)`, status: "–" };
    const missed = checks.filter((c) => !met(c));
    const at = typeof file!.at === "string" ? `, ${file!.at.slice(0, 10)}` : "";
    const floor = t.floor?.(file!);
    return {
      target: t.target,
      measured: `${checks.map(show).join(", ")} (${t.bench}${at})${floor ? `; machine floor in the same run: ${floor}` : ""}`,
      status: missed.length === 0 ? "met" : `not met: ${missed.map(describe).join("; ")}`,
    };
  });
}

export const BEGIN_MARKER = "<!-- summary:begin (generated by bench/summary.ts from bench/results/*.json; do not edit by hand) -->";
export const END_MARKER = "<!-- summary:end -->";

/** The generated block, markers included. */
export function renderSummary(rows: readonly SummaryRow[]): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  return [
    BEGIN_MARKER,
    "| target | measured | status |",
    "|---|---|---|",
    ...rows.map((r) => `| ${cell(r.target)} | ${cell(r.measured)} | ${cell(r.status)} |`),
    END_MARKER,
  ].join("\n");
}

/** `doc` with the block between the markers replaced by `block` (which carries the markers); throws if the markers are missing. */
export function replaceSummary(doc: string, block: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`no ${BEGIN_MARKER} … ${END_MARKER} block in the document`);
  return doc.slice(0, begin) + block + doc.slice(end + END_MARKER.length);
}
