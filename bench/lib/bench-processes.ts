/**
 * The processes a benchmark starts: services run from their entry points the
 * way the stack runs them, and the bare grpc-js echo baseline.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ROOT } from "../../deploy/stack/settings.js";
import { freePort } from "../../test/support/free-port.js";

const READY_TIMEOUT_MS = 60_000;

/** Spawns `node args` in the repository root and resolves once a stdout line passes `ready`. */
export async function spawnReady(name: string, args: string[], env: NodeJS.ProcessEnv, ready: (line: string) => boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    let buf = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      if (lines.some(ready)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  child.stdout!.resume();
  return child;
}

/** SIGTERM, then waits for the exit (nothing to do if it is gone already). */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** The echo baseline (bench/echo-server.ts) as its own process on a free port; `env` adds settings (ECHO_REDIS_URL: the Redis floor). */
export async function spawnEchoServer(env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; address: string }> {
  const port = await freePort();
  const child = await spawnReady(
    "echo-server",
    ["--import", "tsx", path.join(ROOT, "bench/echo-server.ts")],
    { ...process.env, ECHO_PORT: String(port), LOG_LEVEL: "warn", ...env },
    (l) => l.includes('"event":"listening"'),
  );
  return { child, address: `127.0.0.1:${port}` };
}
