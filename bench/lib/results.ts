/**
 * Where every benchmark leaves its numbers: bench/results/<name>.json, one
 * file per bench, overwritten by its next run. <name> is the script's own
 * name (bench/relation-bench.ts → relation-bench), or BENCH_RESULT when set:
 * a partial or experimental run (BENCH_ONLY, BENCH_ZIPF, a profiling run)
 * then keeps the full run's file intact, e.g. BENCH_RESULT=relation-bench-zipf.
 * The summary against the targets (bench/summary.ts) reads these files.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../deploy/stack/settings.js";

export const RESULTS_DIR = path.join(ROOT, "bench", "results");

/** The result name of the running bench: BENCH_RESULT, else its script's base name. */
export function resultName(): string {
  return process.env.BENCH_RESULT || path.basename(process.argv[1] ?? "bench", ".ts");
}

/** The machine a number was measured on (the same shape in every file). */
export function machine() {
  return {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "?",
    node: process.version,
    loadAverage: os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" "),
  };
}

/**
 * Writes `{ bench, at, machine, ...data }` to bench/results/<resultName()>.json
 * and says where; returns the path.
 */
export function writeResult(data: Record<string, unknown>): string {
  const bench = resultName();
  const out = path.join(RESULTS_DIR, `${bench}.json`);
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ bench, at: new Date().toISOString(), machine: machine(), ...data }, null, 2)}\n`);
  process.stdout.write(`written to ${path.relative(ROOT, out)}\n`);
  return out;
}
