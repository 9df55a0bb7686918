import { Cluster, Redis, type ChainableCommander, type RedisOptions } from "ioredis";
import { parseRedisClusterUrl, type RedisClient } from "./redis-client.js";

/** A reply of one pipelined command, as ioredis `pipeline.exec()` gives it. */
export type PipelineReply = [error: Error | null, result: unknown];

/**
 * The connections a per-node command must visit (SCAN, INFO, DBSIZE): every
 * master of a Cluster, or the one client itself. A SCAN through a Cluster
 * client walks one random node only; walk each of these instead.
 */
export function masterNodes(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes("master") : [redis];
}

/**
 * Re-reads the cluster's topology (CLUSTER SLOTS) into the client: a master
 * that went away and came back is only in {@link masterNodes} again after
 * that. The client refreshes by itself on MOVED replies and every
 * `slotsRefreshInterval`; a caller about to visit every master calls this
 * first. Bounded by the client's `slotsRefreshTimeout` per node tried; a
 * failed refresh keeps the old table (the error is returned, not thrown).
 * Nothing to do on a single Redis.
 */
export function refreshTopology(redis: RedisClient): Promise<Error | undefined> {
  if (!(redis instanceof Cluster)) return Promise.resolve(undefined);
  return new Promise((resolve) => redis.refreshSlotsCache((err) => resolve(err ?? undefined)));
}

/**
 * Runs a batch of commands whose keys may be in different slots, in one round
 * trip per node: on a single Redis one pipeline, on a Cluster each command on
 * its own (ioredis refuses a pipeline spanning nodes; the cluster client's
 * auto-pipelining batches the commands per node). Each command must touch one
 * slot (scripts: keys of one hash tag). Replies come in the order `build`
 * queued the commands, as `pipeline.exec()` would give them.
 */
export async function execAcrossSlots(redis: RedisClient, build: (pipe: ChainableCommander) => void): Promise<PipelineReply[]> {
  if (!(redis instanceof Cluster)) {
    const pipe = redis.pipeline();
    build(pipe);
    return ((await pipe.exec()) ?? []) as PipelineReply[];
  }
  const calls: [name: string, args: unknown[]][] = [];
  const recorder: ChainableCommander = new Proxy({} as ChainableCommander, {
    get:
      (_, name) =>
      (...args: unknown[]) => {
        calls.push([String(name), args]);
        return recorder;
      },
  });
  build(recorder);
  const client = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const settled = await Promise.allSettled(
    calls.map(([name, args]) => {
      const method = client[name];
      return typeof method === "function" ? method.apply(redis, args) : Promise.reject(new Error(`no command ${name} on the cluster client`));
    }),
  );
  return settled.map((s): PipelineReply =>
    s.status === "fulfilled" ? [null, s.value] : [s.reason instanceof Error ? s.reason : new Error(String(s.reason)), null],
  );
}

/**
 * MGET of keys that may be in different slots: one MGET on a single Redis,
 * one GET per key on a Cluster (pipelined per node). Throws the first error.
 */
export async function mgetAcrossSlots(redis: RedisClient, keys: readonly string[]): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  if (!(redis instanceof Cluster)) return redis.mget(...keys);
  const replies = await execAcrossSlots(redis, (pipe) => {
    for (const key of keys) pipe.get(key);
  });
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value as string | null;
  });
}

/**
 * A plain client for `url` with ioredis's own defaults plus `options` (tools
 * and tests; services use {@link createRedis}): a `Cluster` for a
 * `redis-cluster://` URL, with `options` applied to every node.
 */
export function redisFromUrl(url: string, options: RedisOptions = {}): RedisClient {
  const cluster = parseRedisClusterUrl(url);
  if (!cluster) return new Redis(url, options);
  const auth = { ...(cluster.username ? { username: cluster.username } : {}), ...(cluster.password ? { password: cluster.password } : {}) };
  return new Cluster(cluster.nodes, { enableAutoPipelining: true, redisOptions: { ...options, ...auth } });
}

const CLUSTER_SLOTS = 16_384;

/** CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with. */
function crc16(bytes: Buffer): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The hash slot of `key` as Redis Cluster computes it: CRC16 of its hash tag (the text of the first non-empty `{...}`) or of the whole key, mod 16384. */
export function keySlot(key: string): number {
  const open = key.indexOf("{");
  const close = open >= 0 ? key.indexOf("}", open + 1) : -1;
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc16(Buffer.from(hashed)) % CLUSTER_SLOTS;
}

/** `host:port` of a node connection, as the cluster client names its nodes (and {@link Cluster.slots} lists them). */
export function nodeAddress(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

/** Tags tried by {@link keyOnNode}: with N masters about N are needed; far more means the slot table is empty. */
const MAX_TAGS = 100_000;

/**
 * The key `name(n)` for the smallest n whose slot the master `node` serves
 * right now, for a marker that must live in that node's keyspace (`name` puts
 * `n` in the key's hash tag, e.g. ``(n) => `marker:{${n}}` ``). `undefined`
 * when the client's slot table gives that node no slot (not connected yet, or
 * the node holds none).
 */
export function keyOnNode(cluster: Cluster, node: Redis, name: (tag: string) => string): string | undefined {
  const address = nodeAddress(node);
  for (let n = 0; n < MAX_TAGS; n++) {
    const key = name(String(n));
    if (cluster.slots[keySlot(key)]?.[0] === address) return key;
  }
  return undefined;
}
