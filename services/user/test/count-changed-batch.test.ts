import { countV1 } from "@rs/idl";
import type { KafkaMessage } from "@rs/kafka";
import { createLogger } from "@rs/logger";
import { describe, expect, it } from "vitest";
import { applyCountChangedBatch } from "../src/consumer.process.js";
import type { CountChange } from "../src/domain/profile.js";

const logger = createLogger("batch-test", "silent");
const msg = (offset: number, e: countV1.CountChanged | null): KafkaMessage =>
  ({
    key: null,
    offset: String(offset),
    timestamp: "0",
    attributes: 0,
    headers: {},
    value: e ? Buffer.from(countV1.CountChanged.encode(e).finish()) : Buffer.from("junk"),
  }) as KafkaMessage;

describe("applyCountChangedBatch", () => {
  it("applies the newest change of each counter, skips junk, and keeps at most `concurrency` applies in flight", async () => {
    const messages = [msg(0, null)];
    for (let u = 1; u <= 40; u++) {
      messages.push(msg(u * 2, { userId: u, name: "follower", value: 1, version: 1 }));
      messages.push(msg(u * 2 + 1, { userId: u, name: "follower", value: 2, version: 2 }));
    }
    let inFlight = 0;
    let most = 0;
    const applied: CountChange[] = [];
    await applyCountChangedBatch(
      { topic: "t", partition: 0, messages },
      async (c) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 1));
        applied.push(c);
        inFlight--;
      },
      logger,
      4,
    );
    expect(applied).toHaveLength(40);
    expect(applied.every((c) => c.version === 2 && c.value === 2)).toBe(true);
    expect(most).toBe(4);
  });

  it("fails the batch when an apply fails, so it is delivered again", async () => {
    const messages = [msg(1, { userId: 1, name: "following", value: 1, version: 1 })];
    await expect(applyCountChangedBatch({ topic: "t", partition: 0, messages }, () => Promise.reject(new Error("shard down")), logger, 2)).rejects.toThrow(
      "shard down",
    );
  });
});
