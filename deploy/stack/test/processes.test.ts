import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/support/wait-for.js";

// The runner keeps pids and logs under RS_DATA_DIR; point it at a scratch folder.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-stack-test-"));
process.env.RS_DATA_DIR = dataDir;
const { assertPortFree, runningPid, startProcess, stopProcess } = await import("../processes.js");

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe("the local stack's process handling", () => {
  it("names a taken port and the variable that moves it", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await expect(assertPortFree({ name: "Redis", variable: "RS_REDIS_PORT", port })).rejects.toThrow(
        new RegExp(`port ${port} for Redis is taken.*RS_REDIS_PORT=<port>`),
      );
    } finally {
      server.close();
    }
    await expect(assertPortFree({ name: "Redis", variable: "RS_REDIS_PORT", port })).resolves.toBeUndefined();
  });

  it("stops exactly the process it started, and forgets a pid whose command line no longer matches", async () => {
    const marker = `rs-marker-${process.pid}`;
    const pid = startProcess({ name: "sleeper", command: "sh", args: ["-c", `sleep 30 # ${marker}`], marker });
    // the pid is known at once; its command line matches once the shell has started
    await waitFor("the sleeper to run", () => runningPid("sleeper") === pid, 5_000);
    expect(runningPid("sleeper")).toBe(pid);
    expect(await stopProcess("sleeper", 2_000)).toBe(true);
    expect(runningPid("sleeper")).toBeUndefined();
    expect(await stopProcess("sleeper")).toBe(false);

    // A recorded pid now held by an unrelated process (pid reuse) is never signalled.
    fs.writeFileSync(path.join(dataDir, "run", "impostor.pid"), JSON.stringify({ pid: process.pid, marker: "not-this-process" }));
    expect(runningPid("impostor")).toBeUndefined();
    expect(await stopProcess("impostor")).toBe(false);
  });
});
