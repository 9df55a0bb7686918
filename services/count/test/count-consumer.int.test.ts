/**
 * The count-consumer against the real Kafka, MariaDB and Redis: count.changed
 * values are applied with a version guard (older and repeated versions change
 * nothing, in the store and in the cache), a value cached before a change is
 * replaced (the consumer writes the cache under the row lock), and unreadable
 * records are skipped without stalling the partition.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countChangedBatchHeaders, countV1 } from "@rs/idl";
import { readConsumerLag } from "@rs/kafka";
import type { RowDataPacket } from "@rs/mysql";
import { waitForNoLag } from "../../../test/support/wait-for.js";
import { createCountWorld, randomId, sleep, type CountClient, type CountWorld } from "./count-fixture.js";

let w: CountWorld;
let client: CountClient;

beforeAll(async () => {
  w = await createCountWorld("consumer");
  // Hot counters off: what the service answers is checked right after the consumer's write, and a kept hot value may be up to HOT_KEY_TTL_MS behind (ADR 18)
  client = (await w.service({ COUNT_HOT_CACHE_SIZE: "0" })).client;
  await w.consumer();
});

afterAll(async () => {
  await w?.cleanup();
});

async function stored(userId: number, name: string): Promise<{ value: number; version: number } | undefined> {
  const [rows] = await w.sharded
    .poolFor(userId)
    .query<RowDataPacket[]>("SELECT value, version FROM counters WHERE entity_id = ? AND entity_type = 'user' AND name = ?", [userId, name]);
  return rows[0] && { value: Number(rows[0].value), version: Number(rows[0].version) };
}

async function eventually<T>(read: () => Promise<T>, want: T, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (JSON.stringify(last) !== JSON.stringify(want) && Date.now() < deadline) {
    await sleep(50);
    last = await read();
  }
  return last;
}

describe("count-consumer", () => {
  it("applies the newest version and ignores older and repeated ones, in the store and in what the service answers", async () => {
    const u = randomId();
    // The service caches the "no count yet" answer first: the consumer must replace it.
    expect((await client.getCounts({ userId: u })).counts?.followerCount).toBe(0);

    await w.publish([{ userId: u, name: "follower", value: 10, version: 1_000 }]);
    expect(await eventually(() => stored(u, "follower"), { value: 10, version: 1_000 })).toEqual({ value: 10, version: 1_000 });
    expect(await eventually(async () => (await client.getCounts({ userId: u })).counts?.followerCount, 10)).toBe(10);

    // Older, then repeated, then newer (with an older one after it in the same batch).
    await w.publish([
      { userId: u, name: "follower", value: 3, version: 900 },
      { userId: u, name: "follower", value: 10, version: 1_000 },
      { userId: u, name: "follower", value: 11, version: 1_001 },
      { userId: u, name: "follower", value: 4, version: 950 },
      { userId: u, name: "following", value: 2, version: 7 },
    ]);
    expect(await eventually(() => stored(u, "following"), { value: 2, version: 7 })).toEqual({ value: 2, version: 7 });
    expect(await stored(u, "follower")).toEqual({ value: 11, version: 1_001 });
    expect((await client.getCounts({ userId: u })).counts).toEqual({ userId: u, followingCount: 2, followerCount: 11 });

    // A replay of all of it changes nothing.
    await w.publish([
      { userId: u, name: "follower", value: 10, version: 1_000 },
      { userId: u, name: "follower", value: 3, version: 900 },
    ]);
    // the consumer has handled them once its group committed every partition up to the high watermark
    await waitForNoLag(() => readConsumerLag(w.kafka, w.env().COUNT_CONSUMER_GROUP!, [w.topic]));
    expect(await stored(u, "follower")).toEqual({ value: 11, version: 1_001 });
    expect((await client.getCounts({ userId: u })).counts?.followerCount).toBe(11);
  });

  it("applies count.v1.CountChangedBatch records (the persister's form) beside single ones, checking each change on its own", async () => {
    const [u, v] = [randomId(), randomId()];
    const batch = (changes: countV1.CountChanged[]) => ({
      key: String(changes[0]!.userId),
      value: Buffer.from(countV1.CountChangedBatch.encode({ changes }).finish()),
      headers: countChangedBatchHeaders(),
    });
    await w.producer.send(w.topic, [
      batch([
        { userId: u, name: "follower", value: 7, version: 70 },
        { userId: v, name: "following", value: 3, version: 30 },
        { userId: v, name: "likes", value: 1, version: 99 }, // not a counter of ours: refused alone
        { userId: u, name: "follower", value: 6, version: 60 }, // older: ignored
      ]),
      // the header names a batch, the value is not one: skipped, the partition goes on
      { key: String(u), value: Buffer.from([0xff, 0xff, 0xff]), headers: countChangedBatchHeaders() },
    ]);
    await w.publish([{ userId: v, name: "follower", value: 1, version: 5 }]);
    expect(await eventually(() => stored(v, "follower"), { value: 1, version: 5 })).toEqual({ value: 1, version: 5 });
    await waitForNoLag(() => readConsumerLag(w.kafka, w.env().COUNT_CONSUMER_GROUP!, [w.topic]));
    expect(await stored(u, "follower")).toEqual({ value: 7, version: 70 });
    expect(await stored(v, "following")).toEqual({ value: 3, version: 30 });
    expect(await stored(v, "likes")).toBeUndefined();
    expect((await client.getCounts({ userId: v })).counts).toEqual({ userId: v, followingCount: 3, followerCount: 1 });
  });

  it("skips an unreadable record and goes on with the partition", async () => {
    const u = randomId();
    await w.producer.send(w.topic, [
      { key: String(u), value: Buffer.from([0xff, 0xff, 0xff, 0xff]) },
      { key: String(u), value: Buffer.from("") },
    ]);
    await w.publish([{ userId: u, name: "following", value: 5, version: 3 }]);
    expect(await eventually(() => stored(u, "following"), { value: 5, version: 3 })).toEqual({ value: 5, version: 3 });
  });
});
