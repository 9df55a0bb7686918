/**
 * The harness's results: the per-phase record, the table, the verdict
 * against the bar, and the docs/reliability.md section. Pure.
 */
import type { Finding } from "./checks.js";
import type { StaleAnswer } from "./model.js";

export interface RequestTally {
  /** writes and reads sent */
  writes: number;
  reads: number;
  /** 2xx */
  ackedWrites: number;
  ackedReads: number;
  /** 4xx answers */
  http4xx: number;
  /** no answer in time, or the connection failed */
  clientFailures: number;
  /** 503 UNAVAILABLE while the fault's dependency was down (or within the grace after it came back) */
  unavailableDuringFault: number;
  /** every other 5xx: 500, 502, 504, or a 503 outside the fault window */
  other5xx: number;
}

export const emptyTally = (): RequestTally => ({
  writes: 0,
  reads: 0,
  ackedWrites: 0,
  ackedReads: 0,
  http4xx: 0,
  clientFailures: 0,
  unavailableDuringFault: 0,
  other5xx: 0,
});

export interface PhaseResult {
  readonly fault: string;
  /** how it was injected (kill -9, SIGSTOP, ...) and healed */
  readonly how: string;
  readonly tally: RequestTally;
  readonly lost: number;
  readonly divergent: number;
  /** seconds from the end of the phase's writes until every check held; null when it did not within the bound */
  readonly convergeSeconds: number | null;
  /** when the fault was injected and when its dependency was back, ms since the phase start */
  readonly faultWindowMs: readonly [number, number];
  /** what still differed at the bound (or at the last unconverged poll), for the evidence */
  readonly findings: readonly Finding[];
  readonly staleAnswers: readonly StaleAnswer[];
  /** examples of the 5xx outside the allowance: status, route, code, message, ms into the phase */
  readonly other5xxExamples: readonly string[];
  /** every answer by status and code, e.g. "503 UNAVAILABLE": 40, "timeout": 2 */
  readonly answers: Readonly<Record<string, number>>;
  /** what the last check looked at (evidence that it read real data) */
  readonly checked?: CheckedScope;
  readonly error?: string;
}

export interface CheckedScope {
  readonly users: number;
  readonly followsRows: number;
  readonly fansRows: number;
  readonly cachedFollowingLists: number;
  readonly cachedFansWindows: number;
  readonly openPairs: number;
}

export interface Bar {
  readonly convergeBoundSeconds: number;
}

/** Why a phase misses the bar; empty when it meets it. */
export function phaseFailures(r: PhaseResult, bar: Bar): string[] {
  const out: string[] = [];
  if (r.error) out.push(`${r.fault}: ${r.error}`);
  if (r.lost > 0) out.push(`${r.fault}: ${r.lost} lost`);
  if (r.divergent > 0) out.push(`${r.fault}: ${r.divergent} divergent`);
  if (r.convergeSeconds === null || r.convergeSeconds > bar.convergeBoundSeconds) out.push(`${r.fault}: not converged within ${bar.convergeBoundSeconds} s`);
  if (r.tally.other5xx > 0) out.push(`${r.fault}: ${r.tally.other5xx} 5xx other than a 503 while the dependency was down`);
  return out;
}

export const failures = (results: readonly PhaseResult[], bar: Bar): string[] => results.flatMap((r) => phaseFailures(r, bar));

const HEADER = ["fault", "operations", "acknowledged", "client errors", "5xx", "lost", "divergent", "seconds to converge"] as const;

/** One row per phase, as the issue asks for it. */
export function tableRows(results: readonly PhaseResult[]): string[][] {
  return results.map((r) => {
    const t = r.tally;
    return [
      r.fault,
      `${t.writes + t.reads} (${t.writes} w, ${t.reads} r)`,
      `${t.ackedWrites + t.ackedReads} (${t.ackedWrites} w)`,
      String(t.http4xx + t.clientFailures),
      t.other5xx > 0 ? `${t.unavailableDuringFault + t.other5xx} (${t.other5xx} not 503-while-down)` : String(t.unavailableDuringFault),
      String(r.lost),
      String(r.divergent),
      r.error ? `error` : r.convergeSeconds === null ? "not converged" : r.convergeSeconds.toFixed(1),
    ];
  });
}

/** A Markdown table (pipes escaped), columns padded so it also reads in a terminal. */
export function formatTable(results: readonly PhaseResult[]): string {
  const rows = [[...HEADER], ...tableRows(results)].map((r) => r.map((c) => c.replaceAll("|", "\\|")));
  const widths = HEADER.map((_, i) => Math.max(3, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(rows[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

export const SECTION_HEADING = "## Fault harness";
