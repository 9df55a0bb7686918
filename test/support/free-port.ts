import net from "node:net";

/**
 * A TCP port free on 127.0.0.1 right now (bound and released by the OS). Shared
 * by tests, test fixtures and benchmarks that start servers of their own.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
