/**
 * Every bench that measures a target of docs/design.md §10, one after the
 * other, each writing bench/results/<name>.json, then the summary table of
 * docs/benchmarks.md regenerated from those files (bench/summary.ts). A bench
 * that fails is reported and the others still run; the exit code says so.
 * big-account runs when bench/big-account.ts exists.
 *
 * The targets are measured with tracing off (BENCH_TELEMETRY=0 unless the
 * caller sets it), as the gateway bench always runs: the echo and the 404
 * floor carry no instrumentation either, and what tracing adds per call and
 * hop is measured on its own (bench/tracing-cost.ts).
 *
 *   ./dev.sh bench            (or ./dev.sh bench all; hold the bench lock:
 *                              flock /tmp/bench.lock ./dev.sh bench)
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../deploy/stack/settings.js";

/** Each bench with its arguments: the targets' settings (persister lag at 10 000 follows/s). */
export const TARGET_BENCHES: readonly (readonly string[])[] = [
  ["relation-bench"],
  ["gateway-bench"],
  ["persist-bench", "20000", "20", "10000"],
  ["redis-memory"],
  ["big-account"],
];

const benchEnv = { ...process.env, BENCH_TELEMETRY: process.env.BENCH_TELEMETRY ?? "0" };
const failed: string[] = [];
for (const [name, ...args] of TARGET_BENCHES) {
  const file = path.join(ROOT, "bench", `${name}.ts`);
  if (!existsSync(file)) {
    process.stdout.write(`\n== ${name}: no bench/${name}.ts, skipped\n`);
    continue;
  }
  process.stdout.write(`\n== ${name} ${args.join(" ")}\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", file, ...args], { cwd: ROOT, stdio: "inherit", env: benchEnv });
  process.stdout.write(`== ${name}: ${r.status === 0 ? "done" : `failed (${r.status ?? r.signal})`} in ${Math.round((Date.now() - started) / 1_000)} s\n`);
  if (r.status !== 0) failed.push(name!);
}
const summary = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "bench", "summary.ts")], { cwd: ROOT, stdio: "inherit" });
if (failed.length > 0) process.stderr.write(`failed: ${failed.join(", ")} (the summary shows their previous results, if any)\n`);
process.exitCode = failed.length > 0 || summary.status !== 0 ? 1 : 0;
