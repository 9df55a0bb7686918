/**
 * Kafka's default partitioner for keyed records, as the Java client computes
 * it (`Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions`). Test-only:
 * the tests check it against the Java client's values and that the producer
 * (KafkaJS's DefaultPartitioner) lands keyed records where it says, i.e. that
 * per-key partitions agree with Java clients. String keys are UTF-8 encoded,
 * as Kafka's StringSerializer does.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's `Utils.murmur2`: 32-bit MurmurHash2 with Kafka's seed, as a signed int32. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
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

/** The partition Kafka's default partitioner picks for `key` among `partitionCount` partitions. */
export function partitionForKey(key: string | Uint8Array, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  }
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : key;
  return toPositive(murmur2(bytes)) % partitionCount;
}
