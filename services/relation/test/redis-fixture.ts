/**
 * Test support for the relation cache: clients of the shared Redis under a
 * prefix unique to the test run (removed afterwards), command counting (with a
 * private redis-server from test/support for exact counts), and a stand-in for
 * A's shard rows.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { infra } from "../../../test/infra.js";
import { deleteKeysMatching } from "../../../test/support/redis-keys.js";
import type { FollowingSnapshot } from "../src/adapters/redis/relation-cache.js";
import type { PendingEntry } from "../src/domain/relation-transition.js";

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

interface ShardRow {
  to: number;
  timeMs: number;
  version: number;
  active: boolean;
}

/**
 * Stands in for A's `follows` rows in the shard (this suite tests the Redis
 * logic only): applies persisted transitions where their version is newer, as
 * the persister's upsert does.
 */
export class FakeFollowsShard {
  readonly rows = new Map<number, ShardRow>();

  persist(entries: readonly PendingEntry[]): void {
    for (const e of entries) {
      const row = this.rows.get(e.to);
      if (row && row.version >= e.version) continue;
      const follow = e.action === "follow";
      // a follow that finds the edge active keeps its created_at
      const timeMs = follow ? (row?.active ? row.timeMs : e.timeMs) : (row?.timeMs ?? e.prevTimeMs);
      this.rows.set(e.to, { to: e.to, timeMs, version: e.version, active: follow });
    }
  }

  snapshot(): FollowingSnapshot {
    const all = [...this.rows.values()];
    return {
      rows: all.filter((r) => r.active).map((r) => ({ to: r.to, timeMs: r.timeMs, version: r.version })),
      maxVersion: all.reduce((m, r) => Math.max(m, r.version), 0),
    };
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
