/**
 * Kafka's default partitioner for keyed records, as the Java client computes
 * it (`Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions`), so per-key
 * partitions agree with Java clients (test/murmur2-partitioner.test.ts checks
 * it against the Java client's values and against KafkaJS's own
 * DefaultPartitioner). String keys are UTF-8 encoded, as Kafka's
 * StringSerializer does.
 *
 * KafkaJS computes the same hash through its emulated 64-bit `Long`: in the
 * persister's profile that was 5 % of the process's CPU (two count.changed
 * records per edge), and it runs on every Follow's event too. This one uses
 * 32-bit integer multiplication (`Math.imul`), which is what Java's int
 * arithmetic is, and hashes a string key without allocating a Buffer.
 */
import { randomInt } from "node:crypto";
import type { ICustomPartitioner } from "kafkajs";

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's `Utils.murmur2` of `data`'s first `length` bytes: 32-bit MurmurHash2 with Kafka's seed, as a signed int32. */
export function murmur2(data: Uint8Array, length: number = data.length): number {
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  // Java's switch on the remaining bytes falls through from the highest one down.
  if (rest >= 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which fails on INT_MIN). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** Where string keys are encoded: keys are user ids and the like, far shorter. */
const scratch = Buffer.allocUnsafe(256);

/** `murmur2` of a string's UTF-8 bytes (in the scratch buffer when they fit). */
function murmur2OfString(key: string): number {
  const written = scratch.write(key, 0, "utf8");
  // `write` stops early rather than split a character: a key that may not have fit is encoded whole
  return written < scratch.length - 3 ? murmur2(scratch, written) : murmur2(Buffer.from(key, "utf8"));
}

/** The partition Kafka's default partitioner picks for `key` among `partitionCount` partitions. */
export function partitionForKey(key: string | Uint8Array, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  }
  return toPositive(typeof key === "string" ? murmur2OfString(key) : murmur2(key)) % partitionCount;
}

/**
 * A KafkaJS partitioner that places records as KafkaJS's DefaultPartitioner
 * does (and the Java client): a message's own partition if it names one,
 * else by its key's murmur2, else round-robin over the partitions that have a
 * leader (over all of them when none has).
 */
export const javaCompatiblePartitioner: ICustomPartitioner = () => {
  let turn = randomInt(0x7fffffff);
  return ({ partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key !== null && message.key !== undefined) return partitionForKey(message.key, partitionMetadata.length);
    const led = partitionMetadata.filter((p) => p.leader >= 0);
    const pool = led.length > 0 ? led : partitionMetadata;
    turn = (turn + 1) & 0x7fffffff;
    return pool[turn % pool.length]!.partitionId;
  };
};
