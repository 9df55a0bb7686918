/**
 * Test support for the relation cache: clients of the shared Redis under a
 * prefix unique to the test run (removed afterwards), command counting (with a
 * private redis-server from test/support for exact counts).
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { infra } from "../../../test/infra.js";
import { deleteKeysMatching } from "../../../test/support/redis-keys.js";

export interface RedisFixture {
  readonly prefix: string;
  /** A new connection (closed by cleanup). */
  client(url?: string): Redis;
  /** Deletes every key under the prefix and closes the connections. */
  cleanup(): Promise<void>;
}

export function redisFixture(url = infra().redisUrl): RedisFixture {
  const prefix = `rs:test:relation:${randomBytes(6).toString("hex")}:`;
  const clients: Redis[] = [];
  return {
    prefix,
    client(u = url) {
      const c = new Redis(u, { maxRetriesPerRequest: 1 });
      clients.push(c);
      return c;
    },
    async cleanup() {
      const admin = new Redis(url);
      try {
        await deleteKeysMatching(admin, `${prefix}*`);
      } finally {
        admin.disconnect();
        for (const c of clients) c.disconnect();
      }
    },
  };
}

/** Counts the commands a client sends (each EVALSHA, ZMSCORE... is one). */
export function countCommands(redis: Redis): string[] {
  const sent: string[] = [];
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((cmd: Parameters<Redis["sendCommand"]>[0], stream?: Parameters<Redis["sendCommand"]>[1]) => {
    sent.push(cmd.name);
    return original(cmd, stream);
  }) as Redis["sendCommand"];
  return sent;
}

/** Sum of `calls` over INFO commandstats, per command name. */
export async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info("commandstats");
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
