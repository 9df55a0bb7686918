import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { spawnTracked, stopChild } from "../../../../test/support/child-processes.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const START_TIMEOUT_MS = 20_000;

export interface EchoProcess {
  readonly instance: string;
  readonly port: number;
  readonly child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns `node --import tsx bench/echo-server.ts` and waits for its "listening" line. */
export async function spawnEcho(env: Record<string, string>): Promise<EchoProcess> {
  const { child, output } = spawnTracked(
    process.execPath,
    ["--import", "tsx", "bench/echo-server.ts"],
    { ...process.env, LOG_LEVEL: "warn", ...env },
    REPO_ROOT,
  );
  const listening = await new Promise<{ port: number; instance: string }>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error("timed out")), START_TIMEOUT_MS);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(new Error(`echo server did not start (${err.message}):\n${output.slice(-20).join("\n")}`));
    };
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        try {
          const msg = JSON.parse(line) as { event?: string; port?: number; instance?: string };
          if (msg.event === "listening" && typeof msg.port === "number" && typeof msg.instance === "string") {
            clearTimeout(timer);
            resolve({ port: msg.port, instance: msg.instance });
          }
        } catch {
          // a log line that is not JSON
        }
      }
    });
    child.once("exit", (code, signal) => fail(new Error(`exited with ${code ?? signal}`)));
  });
  return { ...listening, child, stop: (signal = "SIGTERM") => stopChild(child, signal) };
}
