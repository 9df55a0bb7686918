/**
 * The count store in MySQL: one `counters` table per shard, a counter in the
 * shard of its entity id. Reads are primary-key lookups grouped by shard;
 * changes are applied with a version guard in one transaction per shard.
 */
import type { Logger } from "@rs/logger";
import type { PoolConnection, RowDataPacket, ShardedMysql } from "@rs/mysql";
import { counterKeyString, type CounterChange, type CounterKey } from "../../domain/counter-key.js";

/** Keys per statement. */
const STATEMENT_ROWS = 1_000;
/** Transactions retried on a deadlock (two consumers during a rebalance) before the batch is redelivered. */
export const DEFAULT_APPLY_ATTEMPTS = 5;
const ER_LOCK_DEADLOCK = 1213;
const ER_LOCK_WAIT_TIMEOUT = 1205;
const RETRY_BASE_MS = 10;

interface CounterRow extends RowDataPacket {
  entity_id: number;
  entity_type: string;
  name: string;
  value: number;
}

const tuple = (k: CounterKey) => [k.entityId, k.entityType, k.name];
const byPrimaryKey = (a: CounterKey, b: CounterKey) =>
  a.entityId - b.entityId || (a.entityType < b.entityType ? -1 : a.entityType > b.entityType ? 1 : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += STATEMENT_ROWS) out.push(items.slice(i, i + STATEMENT_ROWS));
  return out;
}

async function selectValues(db: Pick<PoolConnection, "query">, keys: readonly CounterKey[], out: Map<string, number>): Promise<void> {
  for (const part of chunks(keys)) {
    const [rows] = await db.query<CounterRow[]>(
      "SELECT entity_id, entity_type, name, value FROM counters FORCE INDEX (PRIMARY) WHERE (entity_id, entity_type, name) IN (?)",
      [part.map(tuple)],
    );
    for (const r of rows) out.set(counterKeyString({ entityId: Number(r.entity_id), entityType: r.entity_type, name: r.name }), Number(r.value));
  }
}

export class CountersRepository {
  constructor(
    private readonly mysql: ShardedMysql,
    private readonly logger: Logger,
    private readonly attempts: number = DEFAULT_APPLY_ATTEMPTS,
  ) {}

  /** Stored values by {@link counterKeyString}; counters never written are absent. */
  async read(keys: readonly CounterKey[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const groups = this.mysql.groupByShard(keys, (k) => k.entityId);
    await Promise.all([...groups].map(([p, group]) => selectValues(this.mysql.pool(p), group, out)));
    return out;
  }

  /**
   * Applies changes whose version is newer than the stored one, one
   * transaction per shard. `whileLocked` runs inside each transaction after the
   * writes, with the counters' values as they now stand (newer stored values
   * win over stale changes); the rows stay locked until it resolves, so
   * whatever it writes elsewhere (the cache) is ordered like the commits.
   */
  async apply(changes: readonly CounterChange[], nowMs: number, whileLocked: (current: { key: CounterKey; value: number }[]) => Promise<void>): Promise<void> {
    const groups = this.mysql.groupByShard(changes, (c) => c.key.entityId);
    const settled = await Promise.allSettled([...groups].map(([p, group]) => this.applyOnShard(p, group, nowMs, whileLocked)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
  }

  private async applyOnShard(
    physical: number,
    changes: readonly CounterChange[],
    nowMs: number,
    whileLocked: (current: { key: CounterKey; value: number }[]) => Promise<void>,
  ): Promise<void> {
    // Primary-key order: two transactions lock shared rows in the same order.
    const sorted = [...changes].sort((a, b) => byPrimaryKey(a.key, b.key));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.mysql.transaction(physical, async (conn) => {
          for (const part of chunks(sorted)) {
            await conn.query(
              `INSERT INTO counters (entity_id, entity_type, name, value, version, updated_at) VALUES ?
               ON DUPLICATE KEY UPDATE
                 value      = IF(VALUES(version) > version, VALUES(value), value),
                 updated_at = IF(VALUES(version) > version, VALUES(updated_at), updated_at),
                 version    = GREATEST(version, VALUES(version))`,
              [part.map((c) => [...tuple(c.key), c.value, c.version, nowMs])],
            );
          }
          const now = new Map<string, number>();
          await selectValues(
            conn,
            sorted.map((c) => c.key),
            now,
          );
          await whileLocked(sorted.map((c) => ({ key: c.key, value: now.get(counterKeyString(c.key)) ?? c.value })));
        });
        return;
      } catch (err) {
        const errno = (err as { errno?: unknown }).errno;
        if ((errno !== ER_LOCK_DEADLOCK && errno !== ER_LOCK_WAIT_TIMEOUT) || attempt >= this.attempts) throw err;
        this.logger.debug({ errno, attempt }, "counter transaction retried");
        await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** attempt));
      }
    }
  }
}
