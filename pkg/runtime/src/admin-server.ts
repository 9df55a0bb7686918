import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@rs/logger";
import { metricsRegistry } from "./metrics.js";

/** A named dependency check for `/readyz`; resolves when the dependency is usable. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export interface AdminServer {
  readonly port: number;
  /** After this, `/readyz` answers 503 whatever the checks say (draining). */
  setDraining(): void;
  close(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(c: ReadinessCheck): Promise<{ name: string; ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      c.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS}ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { name: c.name, ok: true };
  } catch (err) {
    return { name: c.name, ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serves `/healthz` (the process is alive), `/readyz` (every dependency check
 * passes and the process is not draining) and `/metrics` (Prometheus text).
 */
export async function startAdminServer(opts: { host?: string; port: number; checks: readonly ReadinessCheck[]; logger: Logger }): Promise<AdminServer> {
  let draining = false;
  const server = http.createServer((req, res) => {
    const send = (code: number, body: unknown, type = "application/json") => {
      res.writeHead(code, { "content-type": type, "cache-control": "no-store" });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    const url = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") return send(405, { error: "method not allowed" });
    if (url === "/healthz") return send(200, { status: "ok" });
    if (url === "/readyz") {
      void Promise.all(opts.checks.map(runCheck)).then((results) => {
        const ok = !draining && results.every((r) => r.ok);
        send(ok ? 200 : 503, { status: ok ? "ready" : draining ? "draining" : "not ready", checks: results });
      });
      return;
    }
    if (url === "/metrics") {
      void metricsRegistry.metrics().then(
        (text) => send(200, text, metricsRegistry.contentType),
        (err: unknown) => {
          opts.logger.error({ err }, "metrics collection failed");
          send(500, { error: "metrics unavailable" });
        },
      );
      return;
    }
    send(404, { error: "not found" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  opts.logger.info({ port }, "admin server listening");
  return {
    port,
    setDraining() {
      draining = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
