/**
 * Runs ghz (`go install github.com/bojand/ghz/cmd/ghz@v0.121.0`) against one
 * gRPC method and reduces its JSON report to req/s, p50/p99 and the errors that
 * are the server's doing. Every run but a warm-up (named "warm-up" or
 * "<name> (warm-up)") also leaves its HTML report under
 * bench/results/ghz/<bench>-<run name>.html (bench: see resultName()).
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { renderGhzHtml, type GhzJsonReport } from "./ghz-html.js";
import { RESULTS_DIR, resultName } from "./results.js";

/** ghz's JSON output can be large with many latency buckets. */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;
const NANOS_PER_MILLI = 1e6;

/** ghz from $(go env GOPATH)/bin (or ~/go/bin) if it is there, else from PATH. */
export function ghzPath(): string {
  const gopath = (() => {
    try {
      return execFileSync("go", ["env", "GOPATH"]).toString().trim();
    } catch {
      return path.join(os.homedir(), "go");
    }
  })();
  const local = path.join(gopath, "bin", "ghz");
  return existsSync(local) ? local : "ghz";
}

interface GhzReport extends GhzJsonReport {
  /** Every call: its latency in ns (ghz's JSON report lists them all). */
  details?: { latency: number }[] | null;
}

/** `IsFollowing (cached)` → `isfollowing-cached`. */
const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

/** A warm-up run: `warm-up` or `<name> (warm-up)`. */
const isWarmUp = (name: string) => /warm-up\)?$/.test(name);

/** Writes the run's HTML report beside the bench's JSON (nothing for a warm-up); returns its path. */
export function keepHtmlReport(name: string, report: GhzJsonReport): string | undefined {
  if (isWarmUp(name)) return undefined;
  const file = path.join(RESULTS_DIR, "ghz", `${resultName()}-${slug(name)}.html`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, renderGhzHtml(name, report));
  return file;
}

/** One ghz run, reduced. */
export interface GhzResult {
  name: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface GhzOptions {
  seconds: number;
  concurrency: number;
  /** Print the error distribution to stderr when the server answered errors. */
  reportErrors?: boolean;
}

/**
 * A call's data: ghz's JSON (with template actions, rendered for every call),
 * or a file of it (`--data-file`: no 128 KiB argument limit, e.g. a long array
 * of fixed messages, which ghz builds once and sends round-robin).
 */
export type GhzData = string | { file: string };

const ghzArgs = (address: string, call: string, data: GhzData, opts: GhzOptions) => [
  "--insecure",
  "--call",
  call,
  ...(typeof data === "string" ? ["--data", data] : ["--data-file", data.file]),
  "-c",
  String(opts.concurrency),
  "-z",
  `${opts.seconds}s`,
  "--format",
  "json",
  address,
];

/** Errors that are the server's doing: ghz closes its connection when the time is up, and the calls in flight then fail. */
function serverErrors(name: string, r: GhzReport, opts: GhzOptions): number {
  const errors = Object.entries(r.errorDistribution ?? {})
    .filter(([message]) => !/closed network connection|Canceled/i.test(message))
    .reduce((n, [, count]) => n + count, 0);
  if (opts.reportErrors && errors > 0) process.stderr.write(`${name}: ${JSON.stringify(r.errorDistribution)}\n`);
  return errors;
}

/** Calls `call` (e.g. `user.v1.UserService.GetUser`) on `address` with `data` for `opts.seconds`. */
export function ghz(name: string, address: string, call: string, data: GhzData, opts: GhzOptions): GhzResult {
  const out = execFileSync(ghzPath(), ghzArgs(address, call, data, opts), { maxBuffer: MAX_REPORT_BYTES }).toString();
  const r = JSON.parse(out) as GhzReport;
  keepHtmlReport(name, r);
  const pct = (p: number) => Number(((r.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? 0) / NANOS_PER_MILLI).toFixed(2));
  return { name, rps: Math.round(r.rps), p50Ms: pct(50), p99Ms: pct(99), errors: serverErrors(name, r, opts) };
}

/**
 * One ghz per address, all at once, `opts.concurrency` split evenly between
 * them: the load several processes of one service take together. req/s is the
 * sum; p50/p99 are of every call of every run.
 */
export async function ghzSpread(name: string, addresses: readonly string[], call: string, data: GhzData, opts: GhzOptions): Promise<GhzResult> {
  const each = { ...opts, concurrency: Math.max(1, Math.round(opts.concurrency / addresses.length)) };
  const reports = await Promise.all(
    addresses.map(
      (address) =>
        new Promise<GhzReport>((resolve, reject) =>
          execFile(ghzPath(), ghzArgs(address, call, data, each), { maxBuffer: MAX_REPORT_BYTES }, (err, stdout) =>
            err ? reject(err) : resolve(JSON.parse(stdout) as GhzReport),
          ),
        ),
    ),
  );
  if (!isWarmUp(name)) reports.forEach((r, i) => keepHtmlReport(`${name} (process ${i + 1})`, r));
  const latencies = reports.flatMap((r) => (r.details ?? []).map((d) => d.latency)).sort((a, b) => a - b);
  const pct = (p: number) => Number(((latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? 0) / NANOS_PER_MILLI).toFixed(2));
  return {
    name,
    rps: Math.round(reports.reduce((n, r) => n + r.rps, 0)),
    p50Ms: pct(50),
    p99Ms: pct(99),
    errors: reports.reduce((n, r) => n + serverErrors(name, r, opts), 0),
  };
}
