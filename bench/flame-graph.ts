/**
 * A flame graph (SVG, and PNG through headless Chromium) of a V8 CPU profile,
 * e.g. of the relation process during a relation-bench run:
 *
 *   BENCH_ONLY=list BENCH_TELEMETRY=0 BENCH_RESULT=relation-bench-profile \
 *     BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" ./dev.sh bench relation-bench
 *   node --import tsx bench/flame-graph.ts /tmp/prof/CPU.*.cpuprofile docs/img/flame.svg \
 *     [--from=S] [--to=S] [--hide-idle] [--title=TEXT] [--png=docs/img/flame.png] [--top=15]
 *
 * --from/--to keep the samples between those seconds since the profile's start
 * (to leave out seeding and the other runs); the busy share of every second is
 * printed first, to find the window. Prints the top frames by inclusive and by
 * self samples. --png needs `chromium` (Debian package).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "../deploy/stack/settings.js";
import { flameSvg, mergeStacks, PSEUDO_FRAMES, sampleTimes, topFrames, type CpuProfile } from "./lib/flame-graph.js";

const [input, output] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
if (!input || !output)
  throw new Error("usage: flame-graph.ts PROFILE.cpuprofile OUT.svg [--from=S] [--to=S] [--hide-idle] [--title=TEXT] [--png=OUT.png] [--top=N]");
const from = flag("from") === undefined ? undefined : Number(flag("from"));
const to = flag("to") === undefined ? undefined : Number(flag("to"));
const top = Number(flag("top") ?? 15);

const profile = JSON.parse(fs.readFileSync(input, "utf8")) as CpuProfile;

// busy share per second: which part of the profile is the run
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
const perSecond: { all: number; busy: number }[] = [];
sampleTimes(profile).forEach((t, i) => {
  const s = (perSecond[Math.floor(t)] ??= { all: 0, busy: 0 });
  s.all++;
  if (!idleIds.has(profile.samples[i]!)) s.busy++;
});
process.stdout.write(`busy share per second: ${perSecond.map((s, i) => `${i}:${s ? Math.round((s.busy / s.all) * 100) : 0}%`).join(" ")}\n`);

const tree = mergeStacks(profile, { from, to, root: ROOT });
const hide = process.argv.includes("--hide-idle") ? ["(idle)"] : [];
const pseudo = Object.fromEntries(PSEUDO_FRAMES.map((l) => [l, tree.children.get(l)?.total ?? 0]));
const share = (n: number) => `${((n / tree.total) * 100).toFixed(1)} %`;
const window = from !== undefined || to !== undefined ? `${from ?? 0}–${to ?? "end"} s` : "whole profile";
const title =
  `${flag("title") ?? path.basename(input)}: ${tree.total} samples (${window}); ` +
  PSEUDO_FRAMES.map((l) => `${l} ${share(pseudo[l]!)}`).join(", ") +
  (hide.length > 0 ? "; (idle) left out of the width" : "");
fs.mkdirSync(path.dirname(output), { recursive: true });
fs.writeFileSync(output, flameSvg(tree, { title, hide }));
process.stdout.write(`${title}\nwritten to ${output}\n`);

const shown = tree.total - (hide.length > 0 ? pseudo["(idle)"]! : 0);
const { inclusive, self } = topFrames(tree, top, hide);
for (const [name, rows] of [
  ["inclusive", inclusive],
  ["self", self],
] as const) {
  process.stdout.write(`\ntop ${top} frames by ${name} samples (% of ${hide.length > 0 ? "non-idle" : "all"} samples):\n`);
  for (const [label, n] of rows) process.stdout.write(`${((n / shown) * 100).toFixed(1).padStart(6)} %  ${label}\n`);
}

const png = flag("png");
if (png) {
  const height = Number(/height="(\d+)"/.exec(fs.readFileSync(output, "utf8"))?.[1] ?? 1000);
  const width = Number(/width="(\d+)"/.exec(fs.readFileSync(output, "utf8"))?.[1] ?? 1800);
  execFileSync(
    "chromium",
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--hide-scrollbars",
      "--force-device-scale-factor=1",
      `--screenshot=${path.resolve(png)}`,
      `--window-size=${width},${height}`,
      pathToFileURL(path.resolve(output)).href,
    ],
    { stdio: ["ignore", "ignore", "ignore"] },
  );
  process.stdout.write(`written to ${png}\n`);
}
