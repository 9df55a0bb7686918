/**
 * int64 fields as JS numbers, without a bigint per value. ts-proto's code for
 * `forceLong=number` reads an int64 as a bigint (`protoInt64.dec`), prints it and
 * parses the string back (`longToNumber`), and writes one through `BigInt(value)`
 * and a DataView: about 0.13 µs a value each way, which a list reply of 20 users
 * (80 int64 fields) pays on every hop. `scripts/fast-int64.mjs` (run by the `gen`
 * script) points the generated code here instead.
 *
 * The fast path uses two members @bufbuild/protobuf keeps private: the reader's
 * `varint64()` with its `varint64Lo`/`varint64Hi` words and the writer's
 * `writeVarint64(lo, hi)`. It is checked once against the library's own path
 * when this module loads; a version that changes them gets the library's path
 * ({@link INT64_FAST_PATH} says which, and a test fails while it is off).
 * Values and errors are the same either way: a value outside ±(2^53 − 1) fails
 * to decode with the messages ts-proto uses, so a caller sending one is refused
 * as before.
 */
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";

const TWO_POW_32 = 4_294_967_296;

interface ReaderInternals {
  varint64(): void;
  varint64Lo: number;
  varint64Hi: number;
}

interface WriterInternals {
  writeVarint64(lo: number, hi: number): BinaryWriter;
}

function checkedNumber(n: number): number {
  if (n > Number.MAX_SAFE_INTEGER) throw new Error("Value is larger than Number.MAX_SAFE_INTEGER");
  if (n < Number.MIN_SAFE_INTEGER) throw new Error("Value is smaller than Number.MIN_SAFE_INTEGER");
  return n;
}

/** The library's path (what ts-proto generates): bigint → string → number. */
export function readInt64Slow(reader: BinaryReader): number {
  return checkedNumber(Number(reader.int64().toString()));
}

function readInt64Fast(reader: BinaryReader): number {
  const r = reader as unknown as ReaderInternals;
  r.varint64();
  // hi is a signed 32-bit word: hi·2^32 + lo is the two's complement value, exact up to 2^53 (and past it, beyond the bounds checked)
  return checkedNumber(r.varint64Hi * TWO_POW_32 + (r.varint64Lo >>> 0));
}

function writeInt64Fast(writer: BinaryWriter, value: number): BinaryWriter {
  if (!Number.isSafeInteger(value)) return writer.int64(value); // the library's checks and errors
  return (writer as unknown as WriterInternals).writeVarint64(value >>> 0, Math.floor(value / TWO_POW_32) | 0);
}

const SAMPLES = [0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 1_733_000_000_000, Number.MAX_SAFE_INTEGER, -1, -(2 ** 32), Number.MIN_SAFE_INTEGER];

function fastPathWorks(): boolean {
  try {
    const fast = new BinaryWriter();
    const lib = new BinaryWriter();
    for (const v of SAMPLES) {
      writeInt64Fast(fast, v);
      lib.int64(v);
    }
    const bytes = lib.finish();
    if (Buffer.compare(fast.finish(), bytes) !== 0) return false;
    const reader = new BinaryReader(bytes);
    return SAMPLES.every((v) => readInt64Fast(reader) === v);
  } catch {
    return false;
  }
}

/** Whether this process reads and writes int64 without bigints (see the module's comment). */
export const INT64_FAST_PATH = fastPathWorks();

/** Reads an int64 field as a number; throws beyond ±(2^53 − 1). */
export const readInt64: (reader: BinaryReader) => number = INT64_FAST_PATH ? readInt64Fast : readInt64Slow;

/** Writes an int64 field's varint (after its tag), as `writer.int64(value)` does. */
export const writeInt64: (writer: BinaryWriter, value: number) => BinaryWriter = INT64_FAST_PATH ? writeInt64Fast : (writer, value) => writer.int64(value);
