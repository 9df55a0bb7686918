/**
 * Walks the keys of one kind (`<prefix><kind>:{<user id>}`) with SCAN and hands
 * each user id to `visit`; returns how many `visit` counted. SCAN is per node:
 * on Redis Cluster the walk visits each master in turn (or only `nodes`).
 */
import { masterNodes, type Redis, type RedisClient } from "@rs/redis";
import { isUserId } from "../../domain/relation-transition.js";

/** Keys examined per SCAN step. */
const SCAN_BATCH = 1_000;

export async function forEachUserKey(
  redis: RedisClient,
  match: string,
  visit: (userId: number, key: string) => Promise<boolean>,
  nodes: readonly Redis[] = masterNodes(redis),
): Promise<number> {
  let counted = 0;
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", match, "COUNT", SCAN_BATCH);
      cursor = next;
      for (const key of keys) {
        const id = Number(/\{(\d+)\}$/.exec(key)?.[1]);
        if (isUserId(id) && (await visit(id, key))) counted++;
      }
    } while (cursor !== "0");
  }
  return counted;
}
