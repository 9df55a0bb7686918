/**
 * Starting and stopping the stack's processes. Each runs detached with its
 * output in .data/logs/<name>.log and its pid in .data/run/<name>.pid; stop
 * signals only a pid whose command line still matches what was started, so a
 * reused pid is never killed.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { DATA_DIR, type PortSetting } from "./settings.js";

export const RUN_DIR = path.join(DATA_DIR, "run");
export const LOG_DIR = path.join(DATA_DIR, "logs");

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** A string the process's command line contains, to recognise it by its pid. */
  readonly marker: string;
}

interface PidRecord {
  pid: number;
  marker: string;
}

const pidFile = (name: string) => path.join(RUN_DIR, `${name}.pid`);
export const logFile = (name: string) => path.join(LOG_DIR, `${name}.log`);

function cmdline(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return undefined;
  }
}

function readPid(name: string): PidRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(pidFile(name), "utf8")) as PidRecord;
  } catch {
    return undefined;
  }
}

/** The pid of a process this stack started and that still runs, if any. */
export function runningPid(name: string): number | undefined {
  const rec = readPid(name);
  if (!rec) return undefined;
  const cl = cmdline(rec.pid);
  if (cl !== undefined && cl.includes(rec.marker)) return rec.pid;
  fs.rmSync(pidFile(name), { force: true });
  return undefined;
}

/** The names of every process recorded under .data/run (running or not yet found gone). */
export function recordedNames(): string[] {
  try {
    return fs
      .readdirSync(RUN_DIR)
      .filter((f) => f.endsWith(".pid"))
      .map((f) => f.slice(0, -".pid".length));
  } catch {
    return [];
  }
}

/** Starts a process detached from this one, appending its output to its log. */
export function startProcess(spec: ProcessSpec): number {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const out = fs.openSync(logFile(spec.name), "a");
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
  child.unref();
  fs.writeFileSync(pidFile(spec.name), JSON.stringify({ pid: child.pid, marker: spec.marker } satisfies PidRecord));
  return child.pid;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after `graceMs` if it is still there. Returns whether it ran. */
export async function stopProcess(name: string, graceMs = 15_000): Promise<boolean> {
  const pid = runningPid(name);
  if (pid === undefined) return false;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    /* already gone */
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && cmdline(pid) !== undefined) await sleep(100);
  if (cmdline(pid) !== undefined) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    while (cmdline(pid) !== undefined) await sleep(50);
  }
  fs.rmSync(pidFile(name), { force: true });
  return true;
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function portInUse(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Fails with the port's name and the variable that moves it when something else holds it. */
export async function assertPortFree(setting: PortSetting): Promise<void> {
  if (await portInUse(setting.port)) {
    throw new Error(
      `port ${setting.port} for ${setting.name} is taken by another program; ` + `stop it or choose another port with ${setting.variable}=<port>`,
    );
  }
}

/** Polls `check` until it resolves true or `timeoutMs` passes; then names the log to read. */
export async function waitFor(name: string, check: () => Promise<boolean>, timeoutMs: number, isAlive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not ready yet */
    }
    if (isAlive && !isAlive()) {
      throw new Error(`${name} exited during start-up; see ${logFile(name)}:\n${tail(logFile(name))}`);
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready after ${timeoutMs / 1000}s; see ${logFile(name)}:\n${tail(logFile(name))}`);
    await sleep(250);
  }
}

/** The last lines of a log, to show next to an error. */
export function tail(file: string, lines = 15): string {
  try {
    return fs
      .readFileSync(file, "utf8")
      .trimEnd()
      .split("\n")
      .slice(-lines)
      .map((l) => "    " + l)
      .join("\n");
  } catch {
    return "    (no log)";
  }
}
