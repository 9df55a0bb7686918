/** MySQL DSNs and the fault proxy (fault-proxy.ts): where a proxy must point, and the DSN that goes through it. */
import type { FaultProxy } from "./fault-proxy.js";

/** host and port of a `mysql://` DSN (3306 when it names none), as `startFaultProxy` takes them. */
export function dsnTarget(dsn: string): { host: string; port: number } {
  const u = new URL(dsn);
  return { host: u.hostname, port: Number(u.port || 3306) };
}

/** `dsn` with the proxy's host and port (user, password and database kept). */
export function dsnThrough(proxy: Pick<FaultProxy, "host" | "port">, dsn: string): string {
  const u = new URL(dsn);
  u.hostname = proxy.host;
  u.port = String(proxy.port);
  return u.toString();
}
