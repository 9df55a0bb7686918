import { randomBytes } from "node:crypto";
import { Partitioners, type PartitionerArgs } from "kafkajs";
import { describe, expect, it } from "vitest";
import { javaCompatiblePartitioner, murmur2, partitionForKey, toPositive } from "../src/murmur2-partitioner.js";

/**
 * Test vectors produced by Kafka's own Java implementation, not by this code:
 * `org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(UTF_8))` and
 * `Utils.toPositive(h) % n` from deploy/kafka/libs/kafka-clients-3.9.1.jar
 * (OpenJDK 17, a throwaway single-file program run with
 * `java -cp "deploy/kafka/libs/*" Murmur.java`; the program was not kept).
 */
const STRING_VECTORS: ReadonlyArray<{ key: string; murmur2: number; p8: number; p3: number; p64: number }> = [
  { key: "", murmur2: 275646681, p8: 1, p3: 0, p64: 25 },
  { key: "a", murmur2: -1563381124, p8: 4, p3: 1, p64: 60 },
  { key: "ab", murmur2: 316155434, p8: 2, p3: 2, p64: 42 },
  { key: "abc", murmur2: 479470107, p8: 3, p3: 0, p64: 27 },
  { key: "abcd", murmur2: -1323649548, p8: 4, p3: 2, p64: 52 },
  { key: "abcde", murmur2: 461995741, p8: 5, p3: 1, p64: 29 },
  { key: "abcdef", murmur2: 1870650108, p8: 4, p3: 0, p64: 60 },
  { key: "abcdefg", murmur2: -346467175, p8: 1, p3: 1, p64: 25 },
  { key: "abcdefgh", murmur2: -955427363, p8: 5, p3: 0, p64: 29 },
  { key: "abcdefghi", murmur2: -619679810, p8: 6, p3: 0, p64: 62 },
  { key: "1", murmur2: -1993445489, p8: 7, p3: 0, p64: 15 },
  { key: "42", murmur2: 417700972, p8: 4, p3: 1, p64: 44 },
  { key: "12345", murmur2: -1188365604, p8: 4, p3: 2, p64: 28 },
  { key: "1000000", murmur2: -1399446429, p8: 3, p3: 2, p64: 35 },
  { key: "9007199254740991", murmur2: -1031629061, p8: 3, p3: 0, p64: 59 },
  { key: "user:7", murmur2: 1516913956, p8: 4, p3: 1, p64: 36 },
  { key: "following:{123}", murmur2: 647620342, p8: 6, p3: 1, p64: 54 },
  { key: "中文", murmur2: 1074123597, p8: 5, p3: 0, p64: 13 },
  { key: "héllo", murmur2: 614509002, p8: 2, p3: 0, p64: 10 },
  { key: "The quick brown fox jumps over the lazy dog", murmur2: 495243318, p8: 6, p3: 0, p64: 54 },
];

/** Raw byte keys (same source), covering bytes ≥ 0x80 that Java sees as negative. */
const BYTE_VECTORS: ReadonlyArray<{ hex: string; murmur2: number; p8: number; p3: number; p64: number }> = [
  { hex: "ff", murmur2: -311467685, p8: 3, p3: 0, p64: 27 },
  { hex: "8081", murmur2: 1642145146, p8: 2, p3: 1, p64: 58 },
  { hex: "fffefd", murmur2: 998637092, p8: 4, p3: 2, p64: 36 },
  { hex: "00000000", murmur2: 850957120, p8: 0, p3: 1, p64: 0 },
  { hex: "7f80ff01c39e10", murmur2: -1300735453, p8: 3, p3: 1, p64: 35 },
];

describe("murmur2 / partitionForKey (Kafka's Java default partitioner)", () => {
  it.each(STRING_VECTORS)("string key $key", (v) => {
    expect(murmur2(Buffer.from(v.key, "utf8"))).toBe(v.murmur2);
    expect(partitionForKey(v.key, 8)).toBe(v.p8);
    expect(partitionForKey(v.key, 3)).toBe(v.p3);
    expect(partitionForKey(v.key, 64)).toBe(v.p64);
  });

  it.each(BYTE_VECTORS)("byte key $hex", (v) => {
    const key = Buffer.from(v.hex, "hex");
    expect(murmur2(key)).toBe(v.murmur2);
    expect(partitionForKey(key, 8)).toBe(v.p8);
    expect(partitionForKey(key, 3)).toBe(v.p3);
    expect(partitionForKey(key, 64)).toBe(v.p64);
  });

  it("toPositive clears the sign bit like Java, including for INT_MIN", () => {
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(12345)).toBe(12345);
  });

  it("refuses a partition count that is not a positive integer", () => {
    expect(() => partitionForKey("a", 0)).toThrow(RangeError);
    expect(() => partitionForKey("a", 2.5)).toThrow(RangeError);
  });
});

const metadata = (count: number, leaderless: readonly number[] = []): PartitionerArgs["partitionMetadata"] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    partitionErrorCode: 0,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    replicas: [0],
    isr: [0],
  }));

describe("javaCompatiblePartitioner (the producers' partitioner)", () => {
  it("places every keyed record where KafkaJS's DefaultPartitioner does", () => {
    const ours = javaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys: (string | Buffer)[] = [];
    for (let i = 0; i < 2_000; i++) keys.push(String(1 + Math.floor(Math.random() * 2 ** 53)));
    for (let n = 0; n <= 300; n += 7) keys.push("é".repeat(n), "x".repeat(n)); // around the scratch buffer's size
    for (let i = 0; i < 200; i++) keys.push(randomBytes(i % 40));
    for (const count of [1, 3, 8, 64]) {
      for (const key of keys) {
        const args = { topic: "t", partitionMetadata: metadata(count), message: { key, value: "v" } };
        expect(ours(args)).toBe(theirs(args));
      }
    }
  });

  it("keeps a partition the message names", () => {
    const ours = javaCompatiblePartitioner();
    expect(ours({ topic: "t", partitionMetadata: metadata(8), message: { key: "1", value: "v", partition: 5 } })).toBe(5);
  });

  it("spreads keyless records round-robin over the partitions that have a leader", () => {
    const ours = javaCompatiblePartitioner();
    const seen = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const p = ours({ topic: "t", partitionMetadata: metadata(4, [2]), message: { value: "v" } });
      seen.set(p, (seen.get(p) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual([0, 1, 3]);
    expect([...seen.values()]).toEqual([100, 100, 100]);
  });
});
