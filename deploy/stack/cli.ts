/**
 * The local stack: `up` starts the infrastructure and the suite and stays in
 * the foreground (Ctrl-C stops what it started; `up -d` returns instead);
 * `test` starts what is not running, runs every test and stops what it
 * started; `stop` stops everything recorded under .data/run; `status` lists it.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ALL_INFRA, INFRA, type InfraServer } from "./infra.js";
import { prometheusUrl } from "./prometheus.js";
import { jaegerQueryUrl } from "./jaeger.js";
import { findTrace, renderTrace } from "./trace.js";
import { APPS, allInstances, appReady, appSpec, isInstanceOf, processesPerService, type AppInstance } from "./apps.js";
import { assertPortFree, logFile, recordedNames, runningPid, startProcess, stopProcess, waitFor } from "./processes.js";
import { kafkaReady, localJwtSecret, provisionKafka, provisionMariadb } from "./provision.js";
import { migrateAll } from "./migrate.js";
import { DATA_DIR, HOST, REDIS_CLUSTER, ROOT, infraEnv, ports } from "./settings.js";
import { chaosEnv } from "./chaos/env.js";

const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const say = (s: string) => process.stdout.write(`${bold("==>")} ${s}\n`);
const alive = (name: string) => () => runningPid(name) !== undefined;

/** Starts one server unless it already runs; returns whether this call started it. */
async function ensureInfra(server: InfraServer): Promise<boolean> {
  if (runningPid(server.name) !== undefined) {
    say(`${server.name}: already running`);
    return false;
  }
  for (const p of server.ports) await assertPortFree(p);
  server.prepare();
  const t0 = Date.now();
  say(`${server.name}: starting on ${server.ports.map((p) => `${HOST}:${p.port}`).join(", ")}`);
  startProcess(server.spec());
  const check = server.name === "kafka" ? kafkaReady : () => server.ready();
  await waitFor(server.name, check, server.startTimeoutMs, alive(server.name));
  say(`${server.name}: ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  return true;
}

async function startInfra(): Promise<string[]> {
  const started: string[] = [];
  // Start all four at once; each reports its own progress.
  const results = await Promise.allSettled(INFRA.map(async (s) => ((await ensureInfra(s)) ? s.name : undefined)));
  for (const r of results) if (r.status === "fulfilled" && r.value) started.push(r.value);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length > 0) {
    await stopNames(started.reverse());
    throw new Error(failed.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason))).join("\n"));
  }
  say("provisioning: shard databases, schema, Kafka topics");
  provisionMariadb();
  await migrateAll();
  await provisionKafka();
  return started;
}

async function ensureApp(app: AppInstance, secret: string): Promise<boolean> {
  if (runningPid(app.name) !== undefined) return false;
  // A gateway after the first shares the HTTP port (SO_REUSEPORT): only its admin port must be free.
  for (const p of [app.sharesPort ? undefined : app.port, app.admin]) if (p) await assertPortFree(p);
  startProcess(appSpec(app, secret));
  return true;
}

/** How long a process of the suite may take to report ready: a minute, more when many start at once on few cores. */
const appReadyTimeoutMs = (processes: number) => 60_000 + 15_000 * Math.max(0, processes - 1);

async function startApps(): Promise<string[]> {
  const secret = localJwtSecret();
  const processes = processesPerService();
  const instances = allInstances(processes);
  const started: string[] = [];
  for (const app of instances) {
    if (await ensureApp(app, secret)) started.push(app.name);
  }
  say(
    `starting ${APPS.map((a) => `${a.name} ×${instances.filter((i) => i.service === a.name).length}`).join(", ")} (RS_PROCESSES=${process.env.RS_PROCESSES || "auto"})`,
  );
  await Promise.all(instances.map((app) => waitFor(app.name, () => appReady(app), appReadyTimeoutMs(processes), alive(app.name))));
  return started;
}

async function stopNames(names: readonly string[]): Promise<void> {
  for (const name of names) {
    if (await stopProcess(name)) say(`${name}: stopped`);
  }
}

/**
 * Every process the stack may have started, in stop order: the suite's (the
 * processes RS_PROCESSES asks for, and any other recorded under .data/run, e.g.
 * started with a larger RS_PROCESSES), service by service from the gateway
 * down, then the servers.
 */
function allNames(): string[] {
  const recorded = recordedNames();
  const configured = allInstances().map((i) => i.name);
  const apps = [...APPS].reverse().flatMap((a) => [...new Set([...configured, ...recorded])].filter((n) => isInstanceOf(n, a.name)));
  return [...apps, ...ALL_INFRA.map((s) => s.name).reverse()];
}

function status(): void {
  const rows: string[][] = [["process", "state", "address", "log"]];
  for (const s of INFRA) {
    rows.push([s.name, runningPid(s.name) ? "running" : "stopped", s.address?.() ?? s.ports.map((p) => `${HOST}:${p.port}`).join(" "), logFile(s.name)]);
  }
  const instances = allInstances();
  // Processes beyond RS_PROCESSES that still run (started with a larger setting) are listed too.
  const extra = recordedNames().filter((n) => !instances.some((i) => i.name === n) && APPS.some((a) => isInstanceOf(n, a.name)));
  for (const a of instances) {
    const addr = [a.port ? `${a.service === "gateway" ? "http" : "grpc"}://${HOST}:${a.port.port}` : "", `admin http://${HOST}:${a.admin.port}`]
      .filter(Boolean)
      .join("  ");
    rows.push([a.name, runningPid(a.name) ? "running" : "stopped", addr, logFile(a.name)]);
  }
  for (const name of extra) if (runningPid(name)) rows.push([name, "running", "(beyond RS_PROCESSES)", logFile(name)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join("  ") + "\n");
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): number {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...env } });
  return r.status ?? 1;
}

const VITEST_REPORT = path.join(DATA_DIR, "vitest-report.json");

/**
 * One plain closing line with the totals ("vitest: N passed, N failed, N
 * skipped"), read from Vitest's JSON report; false when there is no report or
 * no test ran at all, which counts as a failure.
 */
function printTestSummary(): boolean {
  let report: {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    testResults?: { status: string; assertionResults: { status: string }[] }[];
  };
  try {
    report = JSON.parse(fs.readFileSync(VITEST_REPORT, "utf8")) as typeof report;
  } catch {
    process.stderr.write("vitest wrote no report: the tests did not run\n");
    return false;
  }
  // A file whose set-up failed reports its tests as skipped: it counts as failed here, so the line never hides it.
  const failedFiles = (report.testResults ?? []).filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length;
  const failed = report.numFailedTests + failedFiles;
  const skipped = report.numPendingTests + report.numTodoTests;
  if (failedFiles > 0) process.stdout.write(`vitest: ${failedFiles} test file(s) failed outside a test (set-up or import)\n`);
  process.stdout.write(`vitest: ${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`);
  return report.numPassedTests + failed > 0 && failedFiles === 0;
}

async function test(args: string[]): Promise<number> {
  const started: string[] = [];
  const cleanup = async () => {
    say("stopping what the test run started");
    await stopNames([...started].reverse());
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    started.push(...(await startInfra()));
    say("typecheck");
    let failed = run("pnpm", ["exec", "tsc", "-p", "tsconfig.json"]) !== 0;
    say("lint");
    failed = run("pnpm", ["exec", "eslint", "."]) !== 0 || failed;
    say("format (prettier --check; `pnpm format` rewrites)");
    failed = run("pnpm", ["exec", "prettier", "--check", "--log-level", "warn", "**/*.ts"]) !== 0 || failed;
    say("unit and integration tests against the real servers");
    fs.rmSync(VITEST_REPORT, { force: true });
    const reporters = ["--reporter=default", "--reporter=json", `--outputFile.json=${VITEST_REPORT}`];
    // On the stack's Redis Cluster only the tests written for one run (unit, integration-cluster); the rest need a single Redis.
    const projects = REDIS_CLUSTER && !args.some((a) => a.startsWith("--project")) ? ["--project", "unit", "--project", "integration-cluster"] : [];
    if (projects.length > 0) say("RS_REDIS_CLUSTER=1: the unit tests and the integration-cluster project, on the stack's Redis Cluster");
    failed = run("pnpm", ["exec", "vitest", "run", ...reporters, ...projects, ...args], infraEnv()) !== 0 || failed;
    failed = !printTestSummary() || failed;
    if (args.length === 0) {
      say("smoke: the whole suite starts and every process reports ready");
      try {
        started.push(...(await startApps()));
        say("smoke: all processes ready");
      } catch (err) {
        process.stderr.write(`smoke failed: ${(err as Error).message}\n`);
        failed = true;
      }
      say("chaos --short: faults injected into a separate instance of the stack (docs/reliability.md, Fault harness)");
      if ((await chaos(["--short"])) !== 0) {
        process.stderr.write(
          "chaos --short failed: a fault phase lost or diverged acknowledged writes, did not converge, or answered a 5xx other than 503 (table and reasons above)\n",
        );
        failed = true;
      }
    }
    return failed ? 1 : 0;
  } finally {
    await cleanup();
  }
}

/**
 * The fault harness (deploy/stack/chaos/main.ts) on its own instance of the
 * stack: its data under .data/chaos and every port moved by
 * RS_CHAOS_PORT_OFFSET (10000), so the default stack is never touched. Ctrl-C
 * reaches the harness, which stops what it started before exiting.
 */
function chaos(args: string[]): Promise<number> {
  const offset = Number(process.env.RS_CHAOS_PORT_OFFSET ?? 10_000);
  // its data beside this stack's (.data/chaos for the default one), so two stacks' harnesses never share it
  const env = { ...process.env, ...chaosEnv(ports, { root: ROOT, offset, dataDir: path.join(DATA_DIR, "chaos") }) };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "deploy/stack/chaos/main.ts"), ...args], { cwd: ROOT, stdio: "inherit", env });
    const ignore = () => undefined;
    process.on("SIGINT", ignore);
    child.on("exit", (code, signal) => {
      process.off("SIGINT", ignore);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** Runs bench/<name>.ts against the local servers (started if needed, stopped after); no name: bench/all.ts (every target bench, then the summary). */
async function bench(args: string[]): Promise<number> {
  const [name = "all", ...rest] = args;
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error("usage: ./dev.sh bench [NAME] (a file bench/NAME.ts; none or all: every target bench, then the summary)");
  const started = await startInfra();
  try {
    return run(process.execPath, ["--import", "tsx", `bench/${name}.ts`, ...rest], infraEnv());
  } finally {
    await stopNames([...started].reverse());
  }
}

async function up(detach: boolean): Promise<void> {
  const started: string[] = [];
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    say("stopping");
    await stopNames(allNames().filter((n) => started.includes(n)));
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  try {
    started.push(...(await startInfra()));
    started.push(...(await startApps()));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    await stopNames(allNames().filter((n) => started.includes(n)));
    process.exit(1);
  }
  say("the suite is running:");
  status();
  if (runningPid("prometheus") !== undefined) {
    const url = prometheusUrl();
    say(`metrics: Prometheus at ${url}/graph (every process every 5 s), alerts at ${url}/alerts, targets at ${url}/targets; see docs/operations.md`);
  }
  if (runningPid("jaeger") !== undefined) {
    say(`traces: every process sends them to Jaeger; ./dev.sh trace last [ROUTE] prints the newest as a waterfall (query API ${jaegerQueryUrl()}/api/traces)`);
  }
  if (detach) {
    say("stop it with ./dev.sh stop");
    return;
  }
  say("Ctrl-C stops what this command started");
  setInterval(() => undefined, 1 << 30);
}

async function main(): Promise<void> {
  const [cmd = "up", ...args] = process.argv.slice(2);
  switch (cmd) {
    case "up":
      return up(args.includes("-d") || args.includes("--detach"));
    case "infra":
      await startInfra();
      status();
      return;
    case "test":
      process.exitCode = await test(args);
      return;
    case "bench":
      process.exitCode = await bench(args);
      return;
    case "chaos":
      process.exitCode = await chaos(args);
      return;
    case "reconcile":
      // The reconciler against the local stack's servers, which must be running.
      process.exitCode = run(process.execPath, ["--import", "tsx", "services/relation/src/reconciler/cli.ts", ...args], infraEnv());
      return;
    case "trace": {
      const base = process.env.JAEGER_QUERY_URL ?? jaegerQueryUrl();
      const lines = await renderTrace(base, await findTrace(base, args));
      process.stdout.write(lines.join("\n") + "\n");
      return;
    }
    case "stop":
      await stopNames(allNames());
      return;
    case "status":
      status();
      return;
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
