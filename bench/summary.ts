/**
 * Regenerates the "Summary against the targets" table of docs/benchmarks.md
 * (the block between its summary markers; the rest of the page is left as it
 * is) from the result files in bench/results/, and prints it.
 *
 *   node --import tsx bench/summary.ts     (also the last step of ./dev.sh bench)
 */
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../deploy/stack/settings.js";
import { RESULTS_DIR } from "./lib/results.js";
import { renderSummary, replaceSummary, summaryRows, TARGETS } from "./lib/summary.js";

const DOC = path.join(ROOT, "docs", "benchmarks.md");

const results: Record<string, unknown> = {};
for (const bench of new Set(TARGETS.map((t) => t.bench))) {
  const file = path.join(RESULTS_DIR, `${bench}.json`);
  if (fs.existsSync(file)) results[bench] = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
}
const block = renderSummary(summaryRows(results));
fs.writeFileSync(DOC, replaceSummary(fs.readFileSync(DOC, "utf8"), block));
process.stdout.write(`${block}\nwritten to ${path.relative(ROOT, DOC)}\n`);
