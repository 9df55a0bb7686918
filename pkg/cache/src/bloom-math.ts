/**
 * The arithmetic of a Bloom filter: sizing from (n, p) and the k bit positions
 * of an item by double hashing (Kirsch & Mitzenmacher, "Less hashing, same
 * performance", 2006): g_i(x) = h1(x) + i·h2(x) mod m, from one MD5 digest.
 */
import { createHash } from "node:crypto";

/** Largest bitmap per Redis key: 2^23 bits = 1 MiB, small enough to stay clear of "big key" stalls and slow migrations. */
export const DEFAULT_MAX_BITS_PER_SHARD = 2 ** 23;
/** Redis bitmaps hold at most 2^32 bits. */
const REDIS_MAX_BITMAP_BITS = 2 ** 32;
const LN2 = Math.LN2;

export interface BloomLayout {
  /** Bits in each shard's bitmap. */
  readonly bitsPerShard: number;
  /** Number of bitmaps (Redis keys); each item lives wholly in one. */
  readonly shards: number;
  /** Bits set per item. */
  readonly hashes: number;
  readonly expectedItems: number;
  readonly falsePositiveRate: number;
}

/**
 * Optimal size for `expectedItems` at `falsePositiveRate`: m = −n·ln p / (ln 2)², k = (m/n)·ln 2,
 * split into as few shards of at most `maxBitsPerShard` bits as hold m.
 */
export function bloomLayout(expectedItems: number, falsePositiveRate: number, maxBitsPerShard = DEFAULT_MAX_BITS_PER_SHARD): BloomLayout {
  if (!Number.isInteger(expectedItems) || expectedItems <= 0) throw new RangeError("expectedItems must be a positive integer");
  if (!(falsePositiveRate > 0 && falsePositiveRate < 1)) throw new RangeError("falsePositiveRate must be in (0, 1)");
  if (!Number.isInteger(maxBitsPerShard) || maxBitsPerShard <= 0 || maxBitsPerShard > REDIS_MAX_BITMAP_BITS) {
    throw new RangeError("maxBitsPerShard must be a positive integer <= 2^32");
  }
  const totalBits = Math.ceil((-expectedItems * Math.log(falsePositiveRate)) / (LN2 * LN2));
  const hashes = Math.max(1, Math.round((totalBits / expectedItems) * LN2));
  const shards = Math.ceil(totalBits / maxBitsPerShard);
  return { bitsPerShard: Math.ceil(totalBits / shards), shards, hashes, expectedItems, falsePositiveRate };
}

/** Where an item's bits are: its shard and the k bit offsets inside that shard. */
export interface BloomPositions {
  readonly shard: number;
  readonly offsets: number[];
}

/** The shard and k bit offsets of `item`; deterministic across processes and restarts. */
export function bloomPositions(item: string, layout: BloomLayout): BloomPositions {
  const d = createHash("md5").update(item).digest();
  const m = layout.bitsPerShard;
  const h1 = d.readUInt32BE(0) % m;
  // h2 must not be 0 mod m, or all k positions coincide.
  const h2 = d.readUInt32BE(4) % m || 1;
  const shard = d.readUInt32BE(8) % layout.shards;
  const offsets = new Array<number>(layout.hashes);
  for (let i = 0; i < layout.hashes; i++) offsets[i] = (h1 + i * h2) % m;
  return { shard, offsets };
}

/** False-positive rate expected after `items` insertions: (1 − e^(−k·n/m))^k, per shard on average. */
export function expectedFalsePositiveRate(layout: BloomLayout, items: number): number {
  const perShard = items / layout.shards;
  return (1 - Math.exp((-layout.hashes * perShard) / layout.bitsPerShard)) ** layout.hashes;
}
