import { readFileSync } from "node:fs";
import net from "node:net";

/**
 * Ports handed out by {@link freePort}. A port the kernel picks for `listen(0)`
 * comes from its ephemeral range, the same one every outgoing connection (to
 * Kafka, Redis, MariaDB) and every other worker's `listen(0)` draws from: the
 * port is free when it is released and may be taken again before the process
 * it was picked for binds it (a gateway once failed in CI with EADDRINUSE so).
 * So ports come from above that range instead, where no connection takes one,
 * each concurrent vitest worker (VITEST_POOL_ID) from a slice of its own, in
 * turn, checked free by binding.
 */
const SLICES = 16;

/** The ports above the kernel's ephemeral range, or undefined where there are too few (then the kernel picks). */
function portsAboveEphemeral(): { first: number; count: number } | undefined {
  let high = 60_999; // Linux's default upper bound
  try {
    const [, upper] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (upper !== undefined && Number.isInteger(upper)) high = upper;
  } catch {
    // not Linux: keep the default bound
  }
  const count = 65_535 - high;
  return count >= SLICES * 64 ? { first: high + 1, count } : undefined;
}

const range = portsAboveEphemeral();
const slice = range && sliceOf(range, Number(process.env.VITEST_POOL_ID ?? 0));
let next = 0;

function sliceOf(r: { first: number; count: number }, poolId: number): { first: number; size: number } {
  const size = Math.floor(r.count / SLICES);
  const index = Number.isInteger(poolId) && poolId > 0 ? poolId % SLICES : 0;
  return { first: r.first + index * size, size };
}

/** Binds `port` (0: any) on 127.0.0.1 and releases it: the port bound, or undefined if it is taken. */
function bindAndRelease(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" || err.code === "EACCES" ? resolve(undefined) : reject(err)));
    server.listen(port, "127.0.0.1", () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port free on 127.0.0.1 right now, not handed out before by this
 * process until its slice wraps. Shared by tests, test fixtures and benchmarks
 * that start servers of their own.
 */
export async function freePort(): Promise<number> {
  if (slice) {
    for (let tried = 0; tried < slice.size; tried++) {
      const port = slice.first + (next++ % slice.size);
      if ((await bindAndRelease(port)) !== undefined) return port;
    }
  }
  const port = await bindAndRelease(0);
  if (port === undefined) throw new Error("no free TCP port on 127.0.0.1");
  return port;
}
