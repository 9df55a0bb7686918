/**
 * The authoritative relation counts a user counter falls back to when the
 * count store has no row for it: `following_counts` and `follower_counts`,
 * kept exact by the relation-persister beside the edges in the same shard
 * databases (services/relation/migrations), keyed by the user like
 * `counters`. A counter row that was never written (a rebuilt store, a lost
 * count.changed) so reads the real count instead of 0.
 *
 * Only ('user', id, 'following' | 'follower') have an authority here; other
 * counters are absent as before. A database without the relation tables (the
 * count service deployed alone) has no authority: absent counters read 0.
 */
import type { Logger } from "@rs/logger";
import type { RowDataPacket, ShardedMysql } from "@rs/mysql";
import { counterKeyString, FOLLOWER, FOLLOWING, USER_ENTITY, type CounterKey } from "../../domain/counter-key.js";

const ER_NO_SUCH_TABLE = 1146;

/** The relation table and column of each user counter; never built from input. */
const AUTHORITY: Record<string, { table: string; column: string }> = {
  [FOLLOWING]: { table: "following_counts", column: "following_count" },
  [FOLLOWER]: { table: "follower_counts", column: "follower_count" },
};

export class ShardCountsRepository {
  private missingTables = false;

  constructor(
    private readonly mysql: ShardedMysql,
    private readonly logger: Logger,
  ) {}

  /** The shards' counts of those `keys` that have an authority, by {@link counterKeyString}; users without a count row read 0. */
  async read(keys: readonly CounterKey[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const known = keys.filter((k) => k.entityType === USER_ENTITY && AUTHORITY[k.name] !== undefined);
    if (known.length === 0 || this.missingTables) return out;
    const byShardAndName = new Map<string, { physical: number; name: string; ids: number[] }>();
    for (const [physical, group] of this.mysql.groupByShard(known, (k) => k.entityId)) {
      for (const k of group) {
        const slot = `${physical}:${k.name}`;
        const entry = byShardAndName.get(slot) ?? { physical, name: k.name, ids: [] };
        entry.ids.push(k.entityId);
        byShardAndName.set(slot, entry);
      }
    }
    try {
      await Promise.all(
        [...byShardAndName.values()].map(async ({ physical, name, ids }) => {
          const { table, column } = AUTHORITY[name]!;
          const [rows] = await this.mysql.pool(physical).query<RowDataPacket[]>(`SELECT user_id, ${column} AS value FROM ${table} WHERE user_id IN (?)`, [ids]);
          for (const id of ids) out.set(counterKeyString({ entityType: USER_ENTITY, entityId: id, name }), 0);
          for (const r of rows) out.set(counterKeyString({ entityType: USER_ENTITY, entityId: Number(r.user_id), name }), Number(r.value));
        }),
      );
    } catch (err) {
      if ((err as { errno?: unknown }).errno !== ER_NO_SUCH_TABLE) throw err;
      this.missingTables = true;
      this.logger.warn("no relation count tables in the shard databases: counters never written read 0");
      return new Map();
    }
    return out;
  }
}
