/**
 * Which virtual shard an id belongs to.
 *
 * The rule, fixed for the life of the data (changing it moves every row):
 *
 *     virtual = murmur3_x86_32(uint64_le(id), seed = 0) mod V
 *
 * i.e. MurmurHash3 (x86, 32-bit) of the id's 8 bytes, little-endian, seed 0.
 * It is a standard hash, so any tool can recompute it: in Python,
 * `mmh3.hash(struct.pack("<Q", id), 0, signed=False) % V`.
 *
 * Why not `id % V`: snowflake ids put the worker id and a per-millisecond
 * sequence in their low bits, so `id % 64` would mostly pick a shard by
 * (worker, sequence): a few workers or quiet periods (sequence 0) would pile
 * users onto a few shards. Murmur3's finaliser mixes every input bit into every
 * output bit, so structured ids still spread evenly.
 */

const MURMUR_C1 = 0xcc9e2d51;
const MURMUR_C2 = 0x1b873593;
const MURMUR_R1 = 15;
const MURMUR_R2 = 13;
const MURMUR_M = 5;
const MURMUR_N = 0xe6546b64;
const FMIX_1 = 0x85ebca6b;
const FMIX_2 = 0xc2b2ae35;
/** Bytes hashed per id: a uint64. */
const ID_BYTES = 8;
const TWO_POW_32 = 0x1_0000_0000;
/** The seed is part of the placement rule; never change it. */
export const VIRTUAL_SHARD_HASH_SEED = 0;

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, MURMUR_C1);
  k = (k << MURMUR_R1) | (k >>> (32 - MURMUR_R1));
  k = Math.imul(k, MURMUR_C2);
  h ^= k;
  h = (h << MURMUR_R2) | (h >>> (32 - MURMUR_R2));
  return (Math.imul(h, MURMUR_M) + MURMUR_N) | 0;
}

/**
 * MurmurHash3 x86_32 of a non-negative safe integer written as 8 little-endian
 * bytes (two 32-bit blocks, no tail). Returns an unsigned 32-bit value.
 */
export function murmur3Id(id: number, seed: number = VIRTUAL_SHARD_HASH_SEED): number {
  // ToUint32 is an exact modulo 2^32, so this is the low word for any safe integer.
  const lo = id >>> 0;
  const hi = Math.floor(id / TWO_POW_32) >>> 0;
  let h = mixBlock(seed | 0, lo);
  h = mixBlock(h, hi);
  return fmix32(h ^ ID_BYTES);
}

/** murmur3's 32-bit finalizer: a bijection of 32-bit integers in which every input bit moves every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, FMIX_1);
  h ^= h >>> 13;
  h = Math.imul(h, FMIX_2);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The virtual shard (0 ≤ result < `virtualShards`) of `id`. Stable across
 * processes, releases and languages (see the module doc for the rule).
 *
 * @throws RangeError if `id` is not a non-negative safe integer or
 *   `virtualShards` is not a positive integer.
 */
export function virtualShardOf(id: number, virtualShards: number): number {
  if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`id must be a non-negative safe integer, got ${id}`);
  if (!Number.isSafeInteger(virtualShards) || virtualShards < 1) {
    throw new RangeError(`virtualShards must be a positive integer, got ${virtualShards}`);
  }
  return murmur3Id(id) % virtualShards;
}
