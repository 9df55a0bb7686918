/**
 * Test support for the relation cache: clients of the shared Redis under a
 * prefix unique to the test run (removed afterwards), command counting (with a
 * private redis-server from test/support for exact counts).
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { redisFromUrl, type RedisClient } from "@rs/redis";
import { infra } from "../../../test/infra.js";
import { deleteKeysMatching } from "../../../test/support/redis-keys.js";

export interface RedisFixture {
  readonly prefix: string;
  /** A new connection (closed by cleanup). */
  client(url?: string): RedisClient;
  /** Deletes every key under the prefix and closes the connections. */
  cleanup(): Promise<void>;
}

export function redisFixture(url = infra().redisUrl): RedisFixture {
  const prefix = `rs:test:relation:${randomBytes(6).toString("hex")}:`;
  const clients: RedisClient[] = [];
  return {
    prefix,
    client(u = url) {
      const c = redisFromUrl(u, { maxRetriesPerRequest: 1 });
      clients.push(c);
      return c;
    },
    async cleanup() {
      const admin = redisFromUrl(url);
      try {
        // `*…*`: a user service under the prefix keeps its bloom under a hash tag, `{<prefix>user:bloom}:0`
        await deleteKeysMatching(admin, `*${prefix}*`);
      } finally {
        admin.disconnect();
        for (const c of clients) c.disconnect();
      }
    },
  };
}

/** Exact command counts need one server (tests that count use a private redis-server). */
function single(client: RedisClient): Redis {
  if (client.isCluster) throw new Error("command counting needs a single Redis, not a Cluster");
  return client as Redis;
}

/** Counts the commands a client sends (each EVALSHA, ZMSCORE... is one). */
export function countCommands(client: RedisClient): string[] {
  const redis = single(client);
  const sent: string[] = [];
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((cmd: Parameters<Redis["sendCommand"]>[0], stream?: Parameters<Redis["sendCommand"]>[1]) => {
    sent.push(cmd.name);
    return original(cmd, stream);
  }) as Redis["sendCommand"];
  return sent;
}

/** Sum of `calls` over INFO commandstats, per command name. */
export async function commandStats(client: RedisClient): Promise<Map<string, number>> {
  const info = await single(client).info("commandstats");
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
