/** What {@link deleteKeysMatching} needs of a Redis client (ioredis's `Redis` fits). */
export interface KeyScanner {
  scan(cursor: string, match: "MATCH", pattern: string, count: "COUNT", n: number): Promise<[cursor: string, elements: string[]]>;
  unlink(...keys: string[]): Promise<number>;
}

/** Keys per SCAN step: large enough to be quick, small enough not to block Redis. */
const SCAN_COUNT = 1_000;

/** Deletes every key matching `pattern` (SCAN + UNLINK, so Redis is never blocked by KEYS). */
export async function deleteKeysMatching(redis: KeyScanner, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== "0");
}
