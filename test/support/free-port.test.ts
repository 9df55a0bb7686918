import { readFileSync } from "node:fs";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "./free-port.js";

const listen = (port: number) =>
  new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });

describe("freePort", () => {
  it("hands out ports above the kernel's ephemeral range, each once, that can be bound", async () => {
    const upper = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[1]);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) expect(port).toBeGreaterThan(upper);
    const servers = await Promise.all(ports.map(listen));
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it("skips a port something listens on", async () => {
    const first = await freePort();
    // the next port in turn, taken before it is handed out
    const taken = await listen(first + 1);
    try {
      const next = await freePort();
      expect(next).not.toBe(first + 1);
      expect(next).not.toBe(first);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});
