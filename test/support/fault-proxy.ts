/**
 * A TCP proxy between a process under test and a real server (Redis, MariaDB,
 * Kafka), to make failure windows deterministic: it forwards both ways until
 * told to misbehave.
 *
 * - `stallReplies()`: requests still reach the server (it executes them), but
 *   nothing comes back until `heal()`: a command that timed out at the client
 *   after the server ran it.
 * - `stallRepliesFrom(bytes)`: forwards until a request containing `bytes`
 *   passes (e.g. one script's SHA), then holds replies as above, from that
 *   request's reply on: the server ran it, the client never hears.
 * - `stall()`: nothing passes either way, sockets stay open (a hung server).
 * - `dropConnections()`: every open connection is reset (a crash or a cut
 *   network); new ones are accepted unless `refuse()` is on.
 * - `refuse()`: new connections are closed at once (server down).
 * - `heal()`: back to forwarding; held bytes are delivered in order.
 */
import net from "node:net";

export type ProxyMode = "forward" | "stall_replies" | "stall" | "refuse";

interface Pair {
  readonly client: net.Socket;
  readonly server: net.Socket;
  /** Bytes held back while stalled, per direction, delivered in order on heal. */
  readonly heldUp: Buffer[];
  readonly heldDown: Buffer[];
}

export interface FaultProxy {
  /** 127.0.0.1:<port> to give the process under test. */
  readonly host: string;
  readonly port: number;
  readonly mode: ProxyMode;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  stallReplies(): void;
  stallRepliesFrom(bytes: string | Buffer): void;
  stall(): void;
  refuse(): void;
  dropConnections(): void;
  heal(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port in front of `target`. */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: ProxyMode = "forward";
  let trigger: Buffer | undefined;
  const pairs = new Set<Pair>();
  const upBlocked = () => mode === "stall";
  const downBlocked = () => mode === "stall" || mode === "stall_replies";

  const flush = (p: Pair) => {
    if (!upBlocked()) for (const b of p.heldUp.splice(0)) p.server.write(b);
    if (!downBlocked()) for (const b of p.heldDown.splice(0)) p.client.write(b);
  };

  const setMode = (m: ProxyMode) => {
    mode = m;
    for (const p of pairs) flush(p);
  };

  const server = net.createServer((client) => {
    if (mode === "refuse") {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const pair: Pair = { client, server: upstream, heldUp: [], heldDown: [] };
    pairs.add(pair);
    client.on("data", (b: Buffer) => {
      if (trigger && b.includes(trigger)) {
        trigger = undefined;
        setMode("stall_replies");
      }
      if (upBlocked()) pair.heldUp.push(b);
      else upstream.write(b);
    });
    upstream.on("data", (b: Buffer) => (downBlocked() ? pair.heldDown.push(b) : client.write(b)));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    host: "127.0.0.1",
    port,
    get mode() {
      return mode;
    },
    get connections() {
      return pairs.size;
    },
    stallReplies: () => setMode("stall_replies"),
    stallRepliesFrom(bytes) {
      trigger = Buffer.from(bytes);
    },
    stall: () => setMode("stall"),
    refuse: () => setMode("refuse"),
    heal() {
      trigger = undefined;
      setMode("forward");
    },
    dropConnections() {
      for (const p of [...pairs]) {
        p.client.resetAndDestroy();
        p.server.destroy();
      }
      pairs.clear();
    },
    async close() {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.server.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
