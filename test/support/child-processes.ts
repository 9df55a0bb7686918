/**
 * Child processes a test spawns (private servers, service processes), tracked
 * so none outlives the test run.
 */
import { spawn, type ChildProcess } from "node:child_process";

/**
 * Every child a test spawns, so none outlives the test run: `killAll()` from
 * afterAll, and a last-resort SIGKILL when the test process itself exits.
 */
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Spawns `command` and tracks it. Output is kept (last lines) for error messages. */
export function spawnTracked(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string) {
  const child = track(spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] }));
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split("\n").filter(Boolean));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { child, output };
}

/** Sends `signal` and waits for the process to be gone (SIGKILL after `graceMs`). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function killAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, "SIGKILL")));
}
