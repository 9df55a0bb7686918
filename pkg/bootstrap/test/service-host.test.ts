import type os from "node:os";
import { describe, expect, it } from "vitest";
import { decodeInstance, encodeInstance } from "@rs/discovery";
import { resolveServiceHost } from "../src/service-host.js";

type Interfaces = ReturnType<typeof os.networkInterfaces>;
const addr = (address: string, family: "IPv4" | "IPv6", internal = false) =>
  ({ address, family, internal, netmask: "", mac: "00:00:00:00:00:00", cidr: null, ...(family === "IPv6" ? { scopeid: 0 } : {}) }) as os.NetworkInterfaceInfo;

const CONTAINER: Interfaces = {
  lo: [addr("127.0.0.1", "IPv4", true), addr("::1", "IPv6", true)],
  eth0: [addr("fe80::42:acff:fe12:5", "IPv6"), addr("172.18.0.5", "IPv4")],
};

describe("resolveServiceHost: the host part of the address registered in etcd", () => {
  it("keeps a name or an IP as given (the local stack's 127.0.0.1, a compose service name)", () => {
    expect(resolveServiceHost("127.0.0.1", CONTAINER)).toBe("127.0.0.1");
    expect(resolveServiceHost("relation", CONTAINER)).toBe("relation");
    expect(resolveServiceHost("10.0.0.7", {})).toBe("10.0.0.7");
  });

  it("auto: the container's own non-loopback IPv4 address, skipping loopback and link-local", () => {
    expect(resolveServiceHost("auto", CONTAINER)).toBe("172.18.0.5");
    expect(resolveServiceHost(" AUTO ", CONTAINER)).toBe("172.18.0.5");
    expect(resolveServiceHost("auto", { eth0: [addr("169.254.1.2", "IPv4"), addr("10.1.2.3", "IPv4")] })).toBe("10.1.2.3");
  });

  it("auto: each replica registers a different address", () => {
    const replica = (ip: string): Interfaces => ({ lo: [addr("127.0.0.1", "IPv4", true)], eth0: [addr(ip, "IPv4")] });
    const hosts = ["172.18.0.5", "172.18.0.6", "172.18.0.7"].map((ip) => resolveServiceHost("auto", replica(ip)));
    expect(new Set(hosts).size).toBe(3);
  });

  it("auto on an IPv6-only interface: the global address in brackets, a host:port discovery accepts", () => {
    const host = resolveServiceHost("auto", { lo: [addr("::1", "IPv6", true)], eth0: [addr("fe80::1", "IPv6"), addr("fd00::5", "IPv6")] });
    expect(host).toBe("[fd00::5]");
    const value = encodeInstance({ instanceId: "i1", address: `${host}:8082`, startedAt: "" });
    expect(decodeInstance("/services/relation/i1", value)?.address).toBe("[fd00::5]:8082");
  });

  it("auto with only loopback fails, naming the setting, rather than registering an address no one else can reach", () => {
    expect(() => resolveServiceHost("auto", { lo: [addr("127.0.0.1", "IPv4", true)] })).toThrow(/SERVICE_HOST=auto.*lo=127\.0\.0\.1/);
    expect(() => resolveServiceHost("auto", {})).toThrow(/interfaces: none/);
  });

  it("auto on this machine gives an address that is not loopback", () => {
    let host: string | undefined;
    try {
      host = resolveServiceHost("auto");
    } catch {
      return; // a sandbox without a network interface
    }
    expect(host).not.toMatch(/^127\.|^\[::1\]$/);
  });
});
