/**
 * A Redis Cluster of three masters (no replicas) on loopback, shared by the
 * local stack (`RS_REDIS_CLUSTER=1`, infra.ts) and the tests
 * (test/support/redis-cluster.ts). Each master is a redis-server started with
 * {@link redisClusterNodeArgs}; {@link formRedisCluster} splits the 16384
 * slots in three (CLUSTER ADDSLOTSRANGE), introduces the nodes (CLUSTER MEET)
 * and waits, bounded, until every node reports `cluster_state:ok` and knows
 * all three. Ports are derived from one first port (the Redis port setting),
 * never picked at random, so two instances of the stack (RS_PORT_OFFSET) never
 * share one. Pure of the stack's settings: callers pass the ports.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export const REDIS_CLUSTER_MASTERS = 3;
const SLOTS = 16_384;
/**
 * A node's cluster bus listens this far above its client port. Redis's default
 * (+10000) would land on the ports of a stack moved by RS_PORT_OFFSET=10000
 * (the chaos instance's Redis is 26379, the default cluster's bus would be too).
 */
export const REDIS_CLUSTER_BUS_OFFSET = 1_000;
/** Longest wait for `cluster_state:ok` after the slots are assigned. */
export const REDIS_CLUSTER_FORM_TIMEOUT_MS = 30_000;
const POLL_MS = 100;
const CLI_TIMEOUT_MS = 5_000;

/** The client ports of the masters: `first`, `first + 1`, `first + 2`. */
export function redisClusterPorts(first: number): number[] {
  return Array.from({ length: REDIS_CLUSTER_MASTERS }, (_, i) => first + i);
}

/** The setting that selects the cluster in `createRedis`: `redis-cluster://host:p1,host:p2,host:p3`. */
export function redisClusterUrl(host: string, ports: readonly number[]): string {
  return `redis-cluster://${ports.map((p) => `${host}:${p}`).join(",")}`;
}

/** The redis-server arguments that make a server on `port` a cluster node (its nodes.conf in its --dir). */
export function redisClusterNodeArgs(port: number): string[] {
  return [
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    "nodes.conf",
    "--cluster-port",
    String(port + REDIS_CLUSTER_BUS_OFFSET),
    // a master that stops answering is marked failed after 5 s (no replicas take over here)
    "--cluster-node-timeout",
    "5000",
  ];
}

/** One command to the node on host:port by redis-cli (the stack and the root package have no Redis client of their own). */
export async function redisCli(host: string, port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", host, "-p", String(port), ...args], { timeout: CLI_TIMEOUT_MS });
  if (/^(ERR|CLUSTERDOWN|MOVED)/.test(stdout)) throw new Error(`redis-cli -p ${port} ${args.join(" ")}: ${stdout.trim()}`);
  return stdout;
}

const infoField = (info: string, field: string) => new RegExp(`^${field}:(\\S+)`, "m").exec(info)?.[1];

/** Whether every node reports `cluster_state:ok` and knows every master. */
export async function redisClusterOk(host: string, ports: readonly number[]): Promise<boolean> {
  for (const port of ports) {
    const info = await redisCli(host, port, "CLUSTER", "INFO");
    if (infoField(info, "cluster_state") !== "ok" || Number(infoField(info, "cluster_known_nodes")) < ports.length) return false;
  }
  return true;
}

/**
 * Makes the running nodes one cluster and waits until it is ok. Idempotent: a
 * cluster formed before (nodes.conf kept in each node's directory) comes back
 * by itself and is only waited for; fresh nodes (no slot assigned anywhere)
 * get a third of the slots each and are introduced to the first. Nodes of
 * which only some hold slots are refused: their data directory mixes two
 * clusters.
 */
export async function formRedisCluster(host: string, ports: readonly number[], timeoutMs = REDIS_CLUSTER_FORM_TIMEOUT_MS): Promise<void> {
  const assigned = await Promise.all(ports.map(async (p) => Number(infoField(await redisCli(host, p, "CLUSTER", "INFO"), "cluster_slots_assigned"))));
  if (assigned.every((n) => n === 0)) {
    const per = Math.ceil(SLOTS / ports.length);
    await Promise.all(ports.map((p, i) => redisCli(host, p, "CLUSTER", "ADDSLOTSRANGE", String(i * per), String(Math.min(SLOTS, (i + 1) * per) - 1))));
    for (const p of ports.slice(1)) await redisCli(host, ports[0]!, "CLUSTER", "MEET", host, String(p), String(p + REDIS_CLUSTER_BUS_OFFSET));
  } else if (assigned.some((n) => n === 0)) {
    throw new Error(`Redis Cluster nodes ${ports.join(", ")}: some were in a cluster before and some are new; remove their data directories and start again`);
  }
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await redisClusterOk(host, ports)) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`Redis Cluster on ${ports.join(", ")} not ok after ${timeoutMs / 1000}s${last ? ` (${String(last)})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
