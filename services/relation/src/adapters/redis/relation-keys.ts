/**
 * Redis key names of the relation cache. Every key of one user carries the hash
 * tag `{<id>}`, so a script touching one user's keys stays in one slot and runs
 * unchanged on Redis Cluster. The prefix separates deployments and test runs.
 */
/** Lists of more follows than this have following-ix:{A} beside them (INDEX_MIN in lua/common.lua). */
export const FOLLOWING_INDEX_MIN = 128;

export interface RelationKeys {
  readonly prefix: string;
  /** Sorted set: A's active follows (member followee id, score follow time ms) + sentinel. */
  following(userId: number): string;
  /**
   * Set: the membership index of a following:{A} of more than
   * {@link FOLLOWING_INDEX_MIN} follows (listpack-encoded): its followee ids
   * plus the sentinel 0, an intset. Same lifetime as following:{A}; see
   * lua/common.lua.
   */
  followingIndex(userId: number): string;
  /** Sorted set: where the load script builds a big following:{A} before copying it (deleted in the same script). */
  followingTmp(userId: number): string;
  /**
   * Hash: `v` version counter, `e` persist epoch of A, `p:<to>` the version of
   * A→to's pending transition once Kafka acknowledged it (for requests of other
   * instances waiting on that publish). Expires with following:{A}.
   */
  meta(userId: number): string;
  /** Hash: followee id → A's newest unpersisted transition of that edge. Never expires. */
  pending(userId: number): string;
  /** List: A's undo transitions waiting to be published. Never expires. */
  outbox(userId: number): string;
  /** Sorted set: users with a non-empty outbox (score first enqueue ms); its own slot. */
  outboxIndex(): string;
  /**
   * Sorted set: users that may hold pending transitions without an event
   * (member user id, score when to check them, ms); its own slot. Written by
   * the writer before each decision, read by the pending sweeper.
   */
  pendingIndex(): string;
  /**
   * String: the run_id of the Redis process this keyspace was last seen in (a restart shows as a change).
   * On Redis Cluster one per master, `redis-run:{<tag>}` with a tag whose slot that master serves.
   */
  redisRun(tag?: string): string;
  /** String: the instance publishing A's outbox right now (a lease, so two never publish the same event). */
  outboxLock(userId: number): string;
  /** Sorted set: the newest N fans of B (member fan id, score follow time ms) + sentinel. */
  fans(userId: number): string;
  /** Hash: per-fan versions, tombstones and window state of fans:{B}. */
  fansVersions(userId: number): string;
}

/** Builds the key names under `prefix` (e.g. `rs:rel:`). Braces are refused: they would move the hash tag. */
export function relationKeys(prefix: string): RelationKeys {
  if (/[{}]/.test(prefix)) throw new RangeError(`key prefix must not contain braces: ${prefix}`);
  const tagged = (kind: string) => (userId: number) => `${prefix}${kind}:{${userId}}`;
  return {
    prefix,
    following: tagged("following"),
    followingIndex: tagged("following-ix"),
    followingTmp: tagged("following-tmp"),
    meta: tagged("meta"),
    pending: tagged("pending"),
    outbox: tagged("outbox"),
    outboxIndex: () => `${prefix}outbox-index`,
    pendingIndex: () => `${prefix}pending-index`,
    redisRun: (tag) => (tag === undefined ? `${prefix}redis-run` : `${prefix}redis-run:{${tag}}`),
    outboxLock: tagged("outbox-lock"),
    fans: tagged("fans"),
    fansVersions: tagged("fansv"),
  };
}
