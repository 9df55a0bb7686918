import { describe, expect, it } from "vitest";
import { murmur3Id, virtualShardOf } from "../src/index.js";

/** Textbook MurmurHash3 x86_32 over arbitrary bytes: the reference the fast path must equal. */
function murmur3Bytes(bytes: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = bytes.length >> 2;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < blocks; i++) {
    let k = view.getUint32(i * 4, true);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  const rest = bytes.length & 3;
  if (rest > 0) {
    let k = 0;
    for (let i = rest - 1; i >= 0; i--) k = (k << 8) | bytes[tail + i]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const uint64le = (id: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(id), true);
  return b;
};

/** A snowflake-shaped id: 40-bit ms, 6-bit worker, 7-bit sequence (the @rs/ids layout). */
const snowflake = (ms: number, worker: number, seq: number) => ms * 8192 + worker * 128 + seq;

describe("murmur3 reference", () => {
  it.each([
    ["", 0, 0x00000000],
    ["", 1, 0x514e28b7],
    ["", 0xffffffff, 0x81f16f39],
    ["aaaa", 0x9747b28c, 0x5a97808a],
    ["abcd", 0x9747b28c, 0xf0478627],
    ["Hello, world!", 0x9747b28c, 0x24884cba],
    ["The quick brown fox jumps over the lazy dog", 0x9747b28c, 0x2fa826cd],
  ])("hashes %j with seed %d to the published value", (text, seed, expected) => {
    expect(murmur3Bytes(utf8(text), seed)).toBe(expected);
  });

  it("matches the published vectors for raw bytes", () => {
    expect(murmur3Bytes(new Uint8Array([0, 0, 0, 0]), 0)).toBe(0x2362f9de);
    expect(murmur3Bytes(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0)).toBe(0x76293b50);
    expect(murmur3Bytes(new Uint8Array([0x21, 0x43, 0x65, 0x87]), 0)).toBe(0xf55b516b);
  });
});

describe("virtualShardOf", () => {
  it("is murmur3_x86_32 of the id's 8 little-endian bytes, seed 0, mod V", () => {
    const ids = [0, 1, 2, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 123_456_789_012, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 2000; i++) ids.push(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER));
    for (const id of ids) {
      expect(murmur3Id(id)).toBe(murmur3Bytes(uint64le(id), 0));
      expect(virtualShardOf(id, 64)).toBe(murmur3Bytes(uint64le(id), 0) % 64);
    }
  });

  it("keeps the placement of known ids (changing this moves data)", () => {
    // Golden values, cross-checked with Python: mmh3.hash(struct.pack("<Q", id), 0, signed=False) % 64.
    // If this fails, existing rows would be looked up on the wrong shard.
    const ids = [1, 42, 1_000_000, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
    expect(ids.map((id) => virtualShardOf(id, 64))).toEqual([4, 62, 38, 34, 27]);
  });

  it("spreads snowflake ids evenly although their low bits are structured", () => {
    const V = 64;
    const counts = new Array<number>(V).fill(0);
    const modCounts = new Array<number>(V).fill(0);
    let n = 0;
    // Two workers, a few ids per millisecond, sequence restarting at 0 each ms.
    for (let ms = 1_000_000; ms < 1_040_000; ms++) {
      for (const worker of [3, 4]) {
        for (let seq = 0; seq < 2; seq++) {
          const id = snowflake(ms, worker, seq);
          counts[virtualShardOf(id, V)]!++;
          modCounts[id % V]!++;
          n++;
        }
      }
    }
    const mean = n / V;
    // id % 64 is just the sequence here (worker * 128 is a multiple of 64), so it
    // would use 2 of 64 shards; the hash uses all 64 within ±10%.
    expect(modCounts.filter((c) => c > 0)).toHaveLength(2);
    for (const c of counts) expect(Math.abs(c - mean) / mean).toBeLessThan(0.1);
  });

  it("refuses what is not an id", () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, Infinity]) expect(() => virtualShardOf(bad, 64)).toThrow(RangeError);
    expect(() => virtualShardOf(1, 0)).toThrow(RangeError);
  });
});
