/**
 * Two gauges of work the relation write path still owes, sampled from Redis
 * on a timer, never on the request path:
 *
 * - `relation_outbox_entries`: users with a non-empty outbox (undo
 *   transitions waiting for Kafka): ZCARD of the outbox index, one O(1) call.
 * - `relation_pending_transitions`: entries of the pending overlay (acknowledged
 *   transitions the persister has not cleared yet) summed over every
 *   `pending:{A}`. There is no global index of the overlay (each entry lives in
 *   its user's slot), so it is counted by a SCAN walk with HLEN, at most
 *   `scanStepsPerTick` SCAN steps per tick; the gauge is set when a walk
 *   completes (each tick on a small keyspace, after several on a large one).
 *
 * Every instance samples the same keys: aggregate with max(), not sum(). On
 * Redis Cluster the walk sees one node only (SCAN is per node).
 */
import { masterNodes, type RedisClient } from "@rs/redis";
import type { Logger } from "@rs/logger";
import { gaugeMetric } from "@rs/runtime";
import type { RelationKeys } from "./relation-keys.js";

export const BACKLOG_DEFAULTS = {
  intervalMs: 10_000,
  /** Keys SCAN examines per step. */
  scanCount: 1_000,
  /** SCAN steps per tick, which bounds the Redis work of one tick. */
  scanStepsPerTick: 20,
} as const;

export interface BacklogGaugesOptions {
  readonly redis: RedisClient;
  readonly keys: RelationKeys;
  readonly logger: Logger;
  readonly intervalMs?: number;
  readonly scanStepsPerTick?: number;
}

export interface BacklogGauges {
  stop(): void;
}

/** Starts sampling at once and then every `intervalMs` (ticks never overlap). */
export function startBacklogGauges(opts: BacklogGaugesOptions): BacklogGauges {
  const outbox = gaugeMetric({
    name: "relation_outbox_entries",
    help: "Users with undo transitions queued in their outbox, waiting for Kafka (ZCARD of the outbox index)",
  });
  const pending = gaugeMetric({
    name: "relation_pending_transitions",
    help: "Entries of the pending overlay: transitions acknowledged in Redis and not yet persisted to the shards (last complete SCAN walk)",
  });
  const intervalMs = opts.intervalMs ?? BACKLOG_DEFAULTS.intervalMs;
  const steps = opts.scanStepsPerTick ?? BACKLOG_DEFAULTS.scanStepsPerTick;
  const match = `${opts.keys.prefix}pending:{*}`;
  // the walk's position: which master (SCAN is per node; one on a single Redis) and its cursor
  let nodes = masterNodes(opts.redis);
  let node = 0;
  let cursor = "0";
  let counted = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const walk = async () => {
    for (let i = 0; i < steps; i++) {
      if (node === 0 && cursor === "0") nodes = masterNodes(opts.redis);
      const at = nodes[node];
      if (!at) throw new Error("no redis master to scan");
      const [next, keys] = await at.scan(cursor, "MATCH", match, "COUNT", BACKLOG_DEFAULTS.scanCount);
      if (keys.length > 0) {
        // the keys SCAN returned live on this node: one pipeline on its connection
        const pipe = at.pipeline();
        for (const key of keys) pipe.hlen(key);
        for (const [err, n] of (await pipe.exec()) ?? []) if (!err) counted += Number(n);
      }
      cursor = next;
      if (cursor === "0" && ++node >= nodes.length) {
        pending.set(counted);
        counted = 0;
        node = 0;
        return;
      }
    }
  };

  const sample = async () => {
    try {
      outbox.set(await opts.redis.zcard(opts.keys.outboxIndex()));
      await walk();
    } catch (err) {
      // start the walk over next time: a half-counted one would undercount
      cursor = "0";
      node = 0;
      counted = 0;
      opts.logger.debug({ err }, "sampling the relation backlog failed; trying again at the next interval");
    }
  };

  const tick = () => {
    void sample().finally(() => {
      if (stopped) return;
      timer = setTimeout(tick, intervalMs);
      timer.unref();
    });
  };
  tick();

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
