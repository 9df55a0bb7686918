/** What {@link deleteKeysMatching} needs of a Redis client (ioredis's `Redis` fits). */
export interface KeyScanner {
  scan(cursor: string, match: "MATCH", pattern: string, count: "COUNT", n: number): Promise<[cursor: string, elements: string[]]>;
  unlink(...keys: string[]): Promise<number>;
}

/** What it needs of a Redis Cluster client (ioredis's `Cluster` fits): its masters. */
export interface ClusterKeyScanner {
  readonly isCluster: boolean;
  nodes(role: "master"): KeyScanner[];
}

/** Keys per SCAN step: large enough to be quick, small enough not to block Redis. */
const SCAN_COUNT = 1_000;

/**
 * Deletes every key matching `pattern` (SCAN + UNLINK, so Redis is never
 * blocked by KEYS). On a Cluster it walks every master, and unlinks key by key
 * there (one UNLINK of keys in several slots is refused).
 */
export async function deleteKeysMatching(redis: KeyScanner | (KeyScanner & ClusterKeyScanner), pattern: string): Promise<void> {
  const cluster = "isCluster" in redis && redis.isCluster;
  for (const node of cluster ? redis.nodes("master") : [redis]) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT);
      cursor = next;
      if (keys.length === 0) continue;
      if (cluster) await Promise.all(keys.map((k) => node.unlink(k)));
      else await node.unlink(...keys);
    } while (cursor !== "0");
  }
}
