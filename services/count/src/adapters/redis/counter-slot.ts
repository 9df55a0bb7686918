/**
 * Where a counter lives in the counter cache: which hash bucket, and the
 * field name inside it. Pure.
 *
 * An id is at most 53 bits: `hi` (its top 21 bits) and `lo` (its low 32).
 * `lo` is mixed with murmur3's 32-bit finalizer, keyed by `hi`:
 * `mixed = fmix32(lo xor fmix32(hi))`. For a fixed `hi` that is a bijection
 * of `lo` (xor with a constant, then a bijection), so (hi, mixed) determines
 * the id. The bucket is `mixed mod buckets` (spread evenly whatever the id
 * layout: snowflake ids differ mostly in their low bits), and the field holds
 * the rest: `hi` in 3 bytes and `floor(mixed / buckets)` in as few bytes as
 * the bucket count leaves (2 bytes at 65 536 buckets). Two ids never share a
 * bucket and a field.
 *
 * Why: a listpack stores a decimal 53-bit id field as a 64-bit integer (10
 * bytes with its header and back-length); this 5-byte binary field costs 7.
 * With a small counter value (2 bytes) an entry is 9 bytes instead of 12
 * (docs/benchmarks.md, "Redis memory").
 */
import { fmix32 } from "@rs/mysql";

const TWO_POW_32 = 2 ** 32;
const HI_BYTES = 3;
/** Bytes that hold every value of `floor(mixed / buckets)`, i.e. 0 … ceil(2^32 / buckets) - 1. */
export function restBytes(buckets: number): number {
  const largest = Math.ceil(TWO_POW_32 / buckets) - 1;
  let bytes = 0;
  for (let v = largest; v > 0; v = Math.floor(v / 256)) bytes++;
  return bytes;
}

export interface CounterSlot {
  readonly bucket: number;
  readonly field: Buffer;
}

/** Computes slots for one bucket count (the field width depends on it). */
export class CounterSlots {
  private readonly restWidth: number;

  constructor(private readonly buckets: number) {
    if (!Number.isSafeInteger(buckets) || buckets < 1 || buckets > TWO_POW_32)
      throw new RangeError(`buckets must be an integer from 1 to 2^32, got ${buckets}`);
    this.restWidth = restBytes(buckets);
  }

  of(id: number): CounterSlot {
    if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`id must be a non-negative safe integer, got ${id}`);
    const hi = Math.floor(id / TWO_POW_32);
    const mixed = fmix32((id >>> 0) ^ fmix32(hi));
    const field = Buffer.allocUnsafe(HI_BYTES + this.restWidth);
    field.writeUIntBE(hi, 0, HI_BYTES);
    if (this.restWidth > 0) field.writeUIntBE(Math.floor(mixed / this.buckets), HI_BYTES, this.restWidth);
    return { bucket: mixed % this.buckets, field };
  }
}
