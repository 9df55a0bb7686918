/**
 * The faults, one per phase, each injected into the chaos instance through
 * the pids the stack runner recorded under its own data folder (processes.ts),
 * so only processes of that instance are ever signalled. A fault returns once
 * what it broke is back (a killed process restarted and ready, a paused one
 * continued): that is the end of its window. App processes killed here are
 * restarted after a short delay, as a supervisor would.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import { APPS, appReady, appSpec, type AppProcess } from "../apps.js";
import { etcd, kafka, mariadb, redis, type InfraServer } from "../infra.js";
import { runningPid, startProcess, stopProcess, waitFor } from "../processes.js";
import { kafkaReady, localJwtSecret } from "../provision.js";
import { HOST, ports } from "../settings.js";

/** How long the "supervisor" waits before starting a killed process again. */
export const SUPERVISOR_DELAY_MS = 1_000;
/** How long a paused or stopped dependency stays away. */
export const OUTAGE_MS = 10_000;
const READY_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Fault {
  readonly name: string;
  /** how it is injected and healed */
  readonly how: string;
  /** part of the short (CI) variant */
  readonly short: boolean;
  /** injects the fault and returns once it is healed */
  run(log: (msg: string) => void): Promise<void>;
}

function pidOf(name: string): number {
  const pid = runningPid(name);
  if (pid === undefined) throw new Error(`${name} is not running in the chaos instance`);
  return pid;
}

const gone = (pid: number) => !fs.existsSync(`/proc/${pid}`) || /\bState:\s+Z/.test(safeRead(`/proc/${pid}/status`));
function safeRead(f: string): string {
  try {
    return fs.readFileSync(f, "utf8");
  } catch {
    return "";
  }
}

/** SIGKILL the instance's process `name` and wait until it is gone. */
export async function kill9(name: string): Promise<void> {
  const pid = pidOf(name);
  process.kill(pid, "SIGKILL");
  const deadline = Date.now() + 15_000;
  while (!gone(pid)) {
    if (Date.now() > deadline) throw new Error(`${name} (pid ${pid}) still there 15 s after SIGKILL`);
    await sleep(50);
  }
}

const app = (name: string): AppProcess => {
  const a = APPS.find((x) => x.name === name);
  if (!a) throw new Error(`no app ${name}`);
  return a;
};

/** Starts an app of the instance and waits until it reports ready. */
export async function startApp(a: AppProcess): Promise<void> {
  startProcess(appSpec(a, localJwtSecret()));
  await waitFor(
    a.name,
    () => appReady(a),
    READY_TIMEOUT_MS,
    () => runningPid(a.name) !== undefined,
  );
}

export async function startInfra(s: InfraServer): Promise<void> {
  startProcess(s.spec());
  await waitFor(s.name, s === kafka ? kafkaReady : () => s.ready(), Math.max(s.startTimeoutMs, READY_TIMEOUT_MS), () => runningPid(s.name) !== undefined);
}

async function killAppAndRestart(name: string, log: (m: string) => void): Promise<void> {
  await kill9(name);
  log(`${name}: killed (-9); restarting in ${SUPERVISOR_DELAY_MS} ms`);
  await sleep(SUPERVISOR_DELAY_MS);
  await startApp(app(name));
  log(`${name}: restarted and ready`);
}

async function killInfraAndRestart(s: InfraServer, log: (m: string) => void): Promise<void> {
  await kill9(s.name);
  log(`${s.name}: killed (-9); restarting in ${SUPERVISOR_DELAY_MS} ms`);
  await sleep(SUPERVISOR_DELAY_MS);
  await startInfra(s);
  log(`${s.name}: restarted and ready`);
}

async function pause(name: string, ms: number, log: (m: string) => void): Promise<void> {
  const pid = pidOf(name);
  process.kill(pid, "SIGSTOP");
  log(`${name}: paused (SIGSTOP) for ${ms / 1000} s`);
  try {
    await sleep(ms);
  } finally {
    process.kill(pid, "SIGCONT");
  }
  log(`${name}: continued (SIGCONT)`);
}

/** SIGCONT every infrastructure process of the instance (cleanup after an interrupted pause). */
export function continueAll(): void {
  for (const s of [mariadb, redis, etcd, kafka]) {
    const pid = runningPid(s.name);
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        /* gone */
      }
    }
  }
}

/** The persister the "persister added" phase starts beside the stack's own. */
export const EXTRA_PERSISTER: AppProcess = {
  name: "relation-persister-2",
  entry: app("relation-persister").entry,
  admin: { name: "relation-persister-2 (admin HTTP)", variable: "RS_CHAOS_EXTRA_ADMIN_PORT", port: Number(process.env.RS_CHAOS_EXTRA_ADMIN_PORT ?? 19107) },
};

function redisCli(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("redis-cli", ["-h", HOST, "-p", String(ports.redis.port), ...args], { timeout: 10_000 }, (err, out) => (err ? reject(err) : resolve(out.trim()))),
  );
}

export const FAULTS: readonly Fault[] = [
  {
    name: "relation kill -9 mid-write",
    how: "SIGKILL the relation service under write load; restarted 1 s later",
    short: true,
    run: (log) => killAppAndRestart("relation", log),
  },
  {
    name: "persister kill -9 mid-batch",
    how: "SIGKILL relation-persister while it persists the load's batches; restarted 1 s later",
    short: false,
    run: (log) => killAppAndRestart("relation-persister", log),
  },
  {
    name: "Kafka kill -9 and restart",
    how: "SIGKILL the broker; restarted 1 s later, ready when it answers metadata with a controller",
    short: false,
    run: (log) => killInfraAndRestart(kafka, log),
  },
  {
    name: "Kafka unreachable 10 s",
    how: "SIGSTOP the broker for 10 s, then SIGCONT (connections hang, no clean close)",
    short: true,
    run: (log) => pause("kafka", OUTAGE_MS, log),
  },
  {
    name: "Redis kill -9 and restart",
    how: "SIGKILL redis-server (AOF everysec); restarted 1 s later from its AOF",
    short: true,
    run: (log) => killInfraAndRestart(redis, log),
  },
  {
    name: "Redis FLUSHALL",
    how: "FLUSHALL on the instance's Redis",
    short: false,
    run: async (log) => {
      log(`redis: FLUSHALL -> ${await redisCli("FLUSHALL")}`);
    },
  },
  {
    name: "MariaDB paused 10 s",
    how: "SIGSTOP mariadbd for 10 s, then SIGCONT",
    short: true,
    run: (log) => pause("mariadb", OUTAGE_MS, log),
  },
  {
    name: "MariaDB kill -9 and restart",
    how: "SIGKILL mariadbd; restarted 1 s later (InnoDB crash recovery)",
    short: false,
    run: (log) => killInfraAndRestart(mariadb, log),
  },
  {
    name: "etcd stopped 10 s",
    how: "SIGTERM etcd, started again 10 s later",
    short: false,
    run: async (log) => {
      await stopProcess("etcd", 15_000);
      log(`etcd: stopped for ${OUTAGE_MS / 1000} s`);
      await sleep(OUTAGE_MS);
      await startInfra(etcd);
      log("etcd: started again and ready");
    },
  },
  {
    name: "persister added, one removed",
    how: "a second relation-persister started (group rebalance), then the first stopped with SIGTERM (rebalance again)",
    short: false,
    run: async (log) => {
      await startApp(EXTRA_PERSISTER);
      log(`${EXTRA_PERSISTER.name}: started and ready`);
      await sleep(3_000);
      await stopProcess("relation-persister", 30_000);
      log("relation-persister: stopped (SIGTERM)");
    },
  },
];
