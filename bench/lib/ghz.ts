/**
 * Runs ghz (`go install github.com/bojand/ghz/cmd/ghz@v0.121.0`) against one
 * gRPC method and reduces its JSON report to req/s, p50/p99 and the errors that
 * are the server's doing.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

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

interface GhzReport {
  rps: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  errorDistribution?: Record<string, number> | null;
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

/** Calls `call` (e.g. `user.v1.UserService.GetUser`) on `address` with `data` for `opts.seconds`. */
export function ghz(name: string, address: string, call: string, data: string, opts: GhzOptions): GhzResult {
  const out = execFileSync(
    ghzPath(),
    ["--insecure", "--call", call, "--data", data, "-c", String(opts.concurrency), "-z", `${opts.seconds}s`, "--format", "json", address],
    { maxBuffer: MAX_REPORT_BYTES },
  ).toString();
  const r = JSON.parse(out) as GhzReport;
  const pct = (p: number) => Number(((r.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? 0) / NANOS_PER_MILLI).toFixed(2));
  // ghz closes its connection when the time is up; the calls in flight then fail, which is not the server's doing.
  const errors = Object.entries(r.errorDistribution ?? {})
    .filter(([message]) => !/closed network connection|Canceled/i.test(message))
    .reduce((n, [, count]) => n + count, 0);
  if (opts.reportErrors && errors > 0) process.stderr.write(`${name}: ${JSON.stringify(r.errorDistribution)}\n`);
  return { name, rps: Math.round(r.rps), p50Ms: pct(50), p99Ms: pct(99), errors };
}
