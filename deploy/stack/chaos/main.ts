/**
 * The fault harness (`./dev.sh chaos [--short]`): its own instance of the
 * local stack (env.ts: a separate data folder, every port moved), a bounded
 * follow/unfollow/read load through the gateway by several users, one fault
 * per phase (faults.ts), and after each phase a bounded wait for convergence
 * checked against every store (checks.ts). Prints the table, writes the run's
 * JSON and exits non-zero when a phase misses the bar.
 *
 * Runs with the chaos environment already set (cli.ts `chaos` starts it so);
 * it refuses to run otherwise, so it can never touch the default stack.
 *
 * Options: --short (the CI subset, fewer operations), --seed N,
 * --only SUBSTRING (phases whose name contains it), --record (also write
 * bench/results/chaos-<mode>.json and the docs/reliability.md table; a full
 * run always does).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ALL_INFRA } from "../infra.js";
import { APPS } from "../apps.js";
import { RUN_DIR, runningPid, stopProcess } from "../processes.js";
import { DATA_DIR, HOST, ROOT, ports } from "../settings.js";
import { evaluate, type Finding, type Observation } from "./checks.js";
import { GatewayClient, LoadDriver, registerUsers, rng, type RequestRecord } from "./driver.js";
import { EXTRA_PERSISTER, FAULTS, continueAll, type Fault } from "./faults.js";
import { AckModel } from "./model.js";
import { observe } from "./observe.js";
import { emptyTally, failures, formatTable, type CheckedScope, type PhaseResult, type RequestTally } from "./report.js";
import { renderDocBlock, upsertGenerated } from "./doc.js";

const CONVERGE_BOUND_S = 60;
/** A 503 this long after the dependency came back still counts as "while it was down" (breakers half-open after 2 s, discovery, reconnects). */
export const UNAVAILABLE_GRACE_MS = 10_000;

interface Mode {
  readonly name: "short" | "full";
  readonly users: number;
  readonly targets: number;
  readonly preMs: number;
  readonly postMs: number;
  readonly maxOpsPerUser: number;
  readonly paceMs: number;
}
const MODES: Record<"short" | "full", Mode> = {
  short: { name: "short", users: 12, targets: 6, preMs: 3_000, postMs: 3_000, maxOpsPerUser: 80, paceMs: 250 },
  full: { name: "full", users: 16, targets: 8, preMs: 4_000, postMs: 4_000, maxOpsPerUser: 200, paceMs: 200 },
};

const BASELINE: Fault = { name: "none (baseline)", how: "the load alone, no fault", short: true, run: async () => undefined };

const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const say = (s: string) => process.stdout.write(`${bold("chaos ==>")} ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv: string[]) {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    short: argv.includes("--short"),
    record: argv.includes("--record"),
    seed: Number(get("--seed") ?? Date.now() % 1_000_000),
    only: get("--only"),
  };
}

/** Runs the stack runner with this (the chaos) environment. */
function stackRunner(args: string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "deploy/stack/cli.ts"), ...args], {
      cwd: ROOT,
      stdio: "inherit",
      env: process.env,
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}

const ALL_NAMES = [EXTRA_PERSISTER.name, ...APPS.map((a) => a.name), ...ALL_INFRA.map((s) => s.name)];

/** Stops exactly what this instance runs: SIGCONT anything paused, the added persister, then the stack runner's own stop for this data folder. */
async function stopInstance(): Promise<void> {
  continueAll();
  await stopProcess(EXTRA_PERSISTER.name);
  await stackRunner(["stop"], 180_000);
}

function classify(
  records: readonly RequestRecord[],
  window: readonly [number, number],
): { tally: RequestTally; other5xxExamples: string[]; answers: Record<string, number> } {
  const tally = emptyTally();
  const examples: string[] = [];
  const answers: Record<string, number> = {};
  const [from, to] = window;
  for (const r of records) {
    const label = r.status === 0 ? (r.failure ?? "no answer") : `${r.status}${r.code ? ` ${r.code}` : ""}`;
    answers[label] = (answers[label] ?? 0) + 1;
    if (r.kind === "read") tally.reads++;
    else tally.writes++;
    if (r.status >= 200 && r.status < 300) {
      if (r.kind === "read") tally.ackedReads++;
      else tally.ackedWrites++;
    } else if (r.status >= 400 && r.status < 500) tally.http4xx++;
    else if (r.status === 0) tally.clientFailures++;
    else if (r.status === 503 && r.code === "UNAVAILABLE" && r.at + r.ms >= from && r.at <= to + UNAVAILABLE_GRACE_MS) tally.unavailableDuringFault++;
    else {
      tally.other5xx++;
      if (examples.length < 10)
        examples.push(
          `${r.status} ${r.code ?? ""} ${r.kind} ${r.route} at ${((r.at - from) / 1000).toFixed(1)} s from the fault: ${r.message ?? ""}`.replace(/\s+/g, " "),
        );
    }
  }
  return { tally, other5xxExamples: examples, answers };
}

function scope(o: Observation, model: AckModel, ids: readonly number[]): CheckedScope {
  const size = (m: ReadonlyMap<number, ReadonlySet<number>>) => [...m.values()].reduce((n, s) => n + s.size, 0);
  let openPairs = 0;
  for (const a of ids) for (const b of ids) if (a !== b && model.expected(a, b) === undefined) openPairs++;
  return {
    users: ids.length,
    followsRows: o.shards.ok ? size(o.shards.value.follows) : -1,
    fansRows: o.shards.ok ? size(o.shards.value.fans) : -1,
    cachedFollowingLists: o.cache.ok ? o.cache.value.following.size : -1,
    cachedFansWindows: o.cache.ok ? o.cache.value.fans.size : -1,
    openPairs,
  };
}

async function main(): Promise<number> {
  if (process.env.RS_CHAOS_INSTANCE !== "1" || path.resolve(DATA_DIR) === path.join(ROOT, ".data")) {
    throw new Error("run the harness with ./dev.sh chaos: it needs its own instance's environment (env.ts)");
  }
  const args = parseArgs(process.argv.slice(2));
  const mode = MODES[args.short ? "short" : "full"];
  let faults = [BASELINE, ...FAULTS.filter((f) => !args.short || f.short)];
  if (args.only) faults = faults.filter((f) => f === BASELINE || f.name.includes(args.only!));
  const random = rng(args.seed);

  const running = ALL_NAMES.filter((n) => runningPid(n) !== undefined);
  if (running.length > 0) {
    throw new Error(
      `the chaos instance already runs (${running.join(", ")}, pids under ${RUN_DIR}): another chaos run? Stop it first with RS_DATA_DIR=${DATA_DIR} and its ports, or wait for it`,
    );
  }
  say(
    `own instance: data ${DATA_DIR}, gateway http://${HOST}:${ports.gateway.port}, MariaDB :${ports.mariadb.port}, Redis :${ports.redis.port}, Kafka :${ports.kafka.port}, etcd :${ports.etcdClient.port}`,
  );
  // a fresh instance every run: nothing of an earlier run can mask or cause a finding
  fs.rmSync(DATA_DIR, { recursive: true, force: true });

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopInstance());
  const onSignal = () => {
    say("interrupted: stopping the chaos instance");
    void stop().then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const results: PhaseResult[] = [];
  const startedAt = new Date();
  try {
    say(`starting the instance (mode ${mode.name}, seed ${args.seed})`);
    if ((await stackRunner(["up", "-d"], 600_000)) !== 0) throw new Error("the chaos instance did not start (see above)");

    const gw = new GatewayClient(`http://${HOST}:${ports.gateway.port}`);
    const users = await registerUsers(gw, mode.users, mode.targets, `${args.seed}_${Date.now() % 100000}`, random);
    say(`${users.length} users registered, each writing ${mode.targets} targets`);
    const model = new AckModel();
    let records: RequestRecord[] = [];
    const driver = new LoadDriver(gw, users, model, random, (r) => records.push(r));

    for (const fault of faults) {
      records = [];
      const staleBefore = model.stale.length;
      say(`phase: ${fault.name} (${fault.how})`);
      let stopLoad = false;
      const load = driver.run({ stop: () => stopLoad, maxOpsPerUser: mode.maxOpsPerUser, paceMs: mode.paceMs, readShare: 0.25 });
      const phaseStart = Date.now();
      await sleep(mode.preMs);
      const injectedAt = Date.now();
      let error: string | undefined;
      try {
        await fault.run((m) => say(`  ${m}`));
      } catch (err) {
        error = `fault did not heal: ${(err as Error).message.split("\n")[0]}`;
        say(`  ${error}`);
      }
      const healedAt = Date.now();
      await sleep(mode.postMs);
      stopLoad = true;
      await load;
      const settled = await driver.settle(Date.now() + 30_000);
      if (settled > 0) say(`  re-sent ${settled} writes whose outcome was unknown, until answered`);
      const writesEnd = Date.now();

      let findings: Finding[] = [];
      let lost = 0;
      let divergent = 0;
      let convergeSeconds: number | null = null;
      let checked: CheckedScope | undefined;
      for (;;) {
        const o = await observe(gw, users);
        checked = scope(
          o,
          model,
          users.map((u) => u.id),
        );
        const v = evaluate(
          model,
          users.map((u) => u.id),
          o,
        );
        lost = v.lost.length;
        divergent = v.divergent.length;
        findings = [...v.lost, ...v.divergent];
        if (lost === 0 && divergent === 0) {
          convergeSeconds = (Date.now() - writesEnd) / 1000;
          break;
        }
        if (Date.now() - writesEnd > CONVERGE_BOUND_S * 1000) break;
        await sleep(1_000);
      }
      const phaseRecords = records.filter((r) => r.kind !== "read" || r.at < writesEnd);
      const { tally, other5xxExamples, answers } = classify(phaseRecords, [injectedAt, healedAt]);
      const result: PhaseResult = {
        fault: fault.name,
        how: fault.how,
        tally,
        lost,
        divergent,
        convergeSeconds,
        faultWindowMs: [injectedAt - phaseStart, healedAt - phaseStart],
        findings: findings.slice(0, 40),
        staleAnswers: model.stale.slice(staleBefore),
        other5xxExamples,
        answers,
        ...(checked ? { checked } : {}),
        ...(error ? { error } : {}),
      };
      results.push(result);
      process.stdout.write(formatTable([result]).split("\n").slice(2).join("\n") + "\n");
      if (checked)
        say(
          `  checked ${checked.users} users: ${checked.followsRows} follows rows, ${checked.fansRows} fans rows, ${checked.cachedFollowingLists} cached following lists, ${checked.cachedFansWindows} cached fans windows, ${checked.openPairs} pairs left open`,
        );
      for (const f of findings.slice(0, 10)) say(`  ${f.kind} (user ${f.user}): ${f.detail}`);
      for (const e of other5xxExamples.slice(0, 5)) say(`  5xx: ${e}`);
      if (result.staleAnswers.length > 0) say(`  ${result.staleAnswers.length} stale answers (changed flag contradicts an acknowledged earlier state)`);
      if (error) break;
    }
  } catch (err) {
    say(`harness error: ${(err as Error).message}`);
    results.push({
      fault: "harness",
      how: "",
      tally: emptyTally(),
      lost: 0,
      divergent: 0,
      convergeSeconds: null,
      faultWindowMs: [0, 0],
      findings: [],
      staleAnswers: [],
      other5xxExamples: [],
      answers: {},
      error: (err as Error).message.split("\n")[0]!,
    });
  } finally {
    say("stopping the chaos instance");
    await stop();
  }

  const bar = { convergeBoundSeconds: CONVERGE_BOUND_S };
  const misses = failures(results, bar);
  const run = {
    command: `./dev.sh chaos${args.short ? " --short" : ""}${args.only ? ` --only '${args.only}'` : ""} --seed ${args.seed}`,
    mode: mode.name,
    seed: args.seed,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: { ...mode, convergeBoundSeconds: CONVERGE_BOUND_S, unavailableGraceMs: UNAVAILABLE_GRACE_MS },
    passed: misses.length === 0,
    failures: misses,
    phases: results,
  };
  const outDir = path.join(ROOT, ".data", "chaos-results");
  fs.mkdirSync(outDir, { recursive: true });
  const jsonFile = path.join(outDir, `chaos-${mode.name}-${startedAt.toISOString().replaceAll(":", "-")}.json`);
  fs.writeFileSync(jsonFile, JSON.stringify(run, null, 2) + "\n");
  if ((mode.name === "full" && !args.only) || args.record) {
    const benchDir = path.join(ROOT, "bench", "results");
    fs.mkdirSync(benchDir, { recursive: true });
    fs.writeFileSync(path.join(benchDir, `chaos-${mode.name}.json`), JSON.stringify(run, null, 2) + "\n");
    const docFile = path.join(ROOT, "docs", "reliability.md");
    // re-read right before writing: other sections of the file may have changed meanwhile
    fs.writeFileSync(docFile, upsertGenerated(fs.readFileSync(docFile, "utf8"), renderDocBlock(benchDir)));
    say(`recorded: bench/results/chaos-${mode.name}.json and the table in docs/reliability.md`);
  }

  process.stdout.write("\n" + formatTable(results) + "\n\n");
  say(`run written to ${path.relative(ROOT, jsonFile)}`);
  if (misses.length > 0) {
    process.stderr.write(
      `chaos: FAILED the bar (zero lost, zero divergent, converged within ${CONVERGE_BOUND_S} s, no 5xx but a 503 while a dependency is down):\n${misses.map((m) => `  - ${m}`).join("\n")}\n`,
    );
    return 1;
  }
  say("every phase met the bar");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
