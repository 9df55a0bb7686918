import { createHash } from "node:crypto";

/** Bits of the username's SHA-256 used as its routing key: an integer JS holds exactly. */
const ROUTING_KEY_BYTES = 6;

/**
 * The number a username is routed by, in place of a user id: the first 48 bits
 * of SHA-256 of its UTF-8 bytes. It goes through the same virtual shard hash and
 * shard map as ids, so resharding moves username rows with their virtual shard
 * like every other row. Fixed for the life of the data.
 */
export function usernameRoutingKey(username: string): number {
  return createHash("sha256").update(username, "utf8").digest().readUIntBE(0, ROUTING_KEY_BYTES);
}
