import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { freePort } from "./free-port.js";
import { spawnTracked, stopChild } from "./child-processes.js";

const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 100;

/**
 * An etcd of the test's own (free ports, temp data dir), because these tests
 * stop and wipe it: the shared one of the local stack must never be touched.
 */
export class PrivateEtcd {
  private child: ChildProcess | undefined;
  private output: string[] = [];
  private dataDir = "";

  private constructor(
    readonly clientPort: number,
    private readonly peerPort: number,
  ) {}

  static async start(): Promise<PrivateEtcd> {
    const etcd = new PrivateEtcd(await freePort(), await freePort());
    await etcd.startProcess(true);
    return etcd;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  /** Kills etcd at once (no graceful stop: the point is to lose it). */
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGKILL");
    this.child = undefined;
  }

  /** Starts it again on the same ports; `wipe` starts from an empty data dir. */
  async restart({ wipe }: { wipe: boolean }): Promise<void> {
    await this.stop();
    await this.startProcess(wipe);
  }

  /** Stops it and removes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  private async startProcess(freshDataDir: boolean): Promise<void> {
    if (freshDataDir) {
      if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
      this.dataDir = await mkdtemp(path.join(tmpdir(), "rs-test-etcd-"));
    }
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const { child, output } = spawnTracked(
      "etcd",
      [
        "--name",
        "test",
        "--data-dir",
        this.dataDir,
        "--listen-client-urls",
        this.endpoint,
        "--advertise-client-urls",
        this.endpoint,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        `test=${peer}`,
        "--logger",
        "zap",
        "--log-level",
        "error",
      ],
      { ...process.env },
    );
    this.child = child;
    this.output = output;
    await this.waitHealthy();
  }

  private async waitHealthy(): Promise<void> {
    const until = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < until) {
      if (this.child?.exitCode !== null) break;
      try {
        const res = await fetch(`${this.endpoint}/health`);
        const body = (await res.json()) as { health?: string };
        if (body.health === "true") return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
    throw new Error(`private etcd did not become healthy:\n${this.output.slice(-20).join("\n")}`);
  }
}
