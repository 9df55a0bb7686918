import os from "node:os";

/** The SERVICE_HOST value that asks a process to register its own interface address. */
export const SERVICE_HOST_AUTO = "auto";

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/**
 * The host part of the address a process registers in etcd. A name or an IP is
 * used as given (the local stack sets 127.0.0.1). `auto` picks this machine's
 * (container's, pod's) own address: the first non-loopback, non-link-local IPv4
 * address of its interfaces, else such an IPv6 address (in brackets, so
 * `host:port` stays parseable). That is what lets `docker compose up --scale
 * relation=3` work: every replica registers the address only it answers on,
 * where a service name would be the same for all of them.
 */
export function resolveServiceHost(setting: string, interfaces: Interfaces = os.networkInterfaces()): string {
  if (setting.trim().toLowerCase() !== SERVICE_HOST_AUTO) return setting;
  const all = Object.entries(interfaces).flatMap(([name, addrs]) => (addrs ?? []).map((a) => ({ name, ...a })));
  const usable = all.filter((a) => !a.internal && !isLinkLocal(a.address, a.family));
  const v4 = usable.find((a) => a.family === "IPv4");
  if (v4) return v4.address;
  const v6 = usable.find((a) => a.family === "IPv6");
  if (v6) return `[${v6.address}]`;
  const seen = all.map((a) => `${a.name}=${a.address}`).join(", ") || "none";
  throw new Error(`SERVICE_HOST=auto: no non-loopback interface address to register (interfaces: ${seen}); set SERVICE_HOST to a reachable host name or IP`);
}

function isLinkLocal(address: string, family: string): boolean {
  return family === "IPv4" ? address.startsWith("169.254.") : /^fe[89ab]/i.test(address);
}
