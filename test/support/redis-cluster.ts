/**
 * A throwaway Redis Cluster on loopback owned by one test run: three masters
 * (no replicas), each a private redis-server with `--cluster-enabled yes` on a
 * free port and in its own temp dir. The slots are split in three with
 * CLUSTER ADDSLOTSRANGE, the nodes are introduced with CLUSTER MEET, and
 * `start` returns once every node reports `cluster_state:ok` and knows all three
 * masters. `destroy` kills the servers and removes their directories.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { privateRedis, type PrivateRedis } from "./private-redis.js";
import { waitFor } from "./wait-for.js";

const run = promisify(execFile);
const MASTERS = 3;

/** One command to the node on `port`, by redis-cli (the root package has no Redis client of its own). */
async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]);
  if (stdout.startsWith("ERR")) throw new Error(`redis-cli ${args.join(" ")}: ${stdout.trim()}`);
  return stdout;
}
const SLOTS = 16_384;
const READY_TIMEOUT_MS = 20_000;

export interface RedisClusterFixture {
  /** `host:port` of every master. */
  readonly nodes: readonly { host: string; port: number }[];
  /** The setting that selects the cluster in `createRedis`: `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,...`. */
  readonly url: string;
  /** Stops the servers and removes their directories. */
  destroy(): Promise<void>;
}

/** Starts three cluster-enabled masters, assigns the slots, joins them and waits for `cluster_state:ok`. */
export async function startRedisCluster(): Promise<RedisClusterFixture> {
  const servers: PrivateRedis[] = [];
  try {
    for (let i = 0; i < MASTERS; i++) {
      servers.push(await privateRedis(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"]));
    }
    const per = Math.ceil(SLOTS / MASTERS);
    await Promise.all(servers.map((s, i) => cli(s.port, "CLUSTER", "ADDSLOTSRANGE", String(i * per), String(Math.min(SLOTS, (i + 1) * per) - 1))));
    for (const s of servers.slice(1)) await cli(servers[0]!.port, "CLUSTER", "MEET", "127.0.0.1", String(s.port));
    await waitFor(
      "redis cluster_state:ok on every node",
      async () => {
        for (const s of servers) {
          const info = await cli(s.port, "CLUSTER", "INFO");
          if (!info.includes("cluster_state:ok") || !info.includes(`cluster_known_nodes:${MASTERS}`)) return false;
        }
        return true;
      },
      READY_TIMEOUT_MS,
    );
  } catch (err) {
    await Promise.all(servers.map((s) => s.destroy()));
    throw err;
  }
  const nodes = servers.map((s) => ({ host: "127.0.0.1", port: s.port }));
  return {
    nodes,
    url: `redis-cluster://${nodes.map((n) => `${n.host}:${n.port}`).join(",")}`,
    async destroy() {
      await Promise.all(servers.map((s) => s.destroy()));
    },
  };
}
