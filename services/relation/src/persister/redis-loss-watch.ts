/**
 * Notices when Redis may have lost writes and has the cached lists verified.
 *
 * Redis restarted after a crash reloads its append-only file, which may miss
 * its last second (appendfsync everysec): following:{A} and fans:{B} come back
 * without transitions that were acknowledged and published. Their events
 * still reach the shards, but nothing would correct the cached lists before
 * their TTL (a day). The watch reads the server's run_id every interval and
 * compares it with a marker kept in the keyspace; a changed or missing marker
 * means the keyspace may be behind. Then it re-indexes the pending overlays
 * and outboxes (their index may be what was lost), waits until this persister
 * group has persisted every event published before that moment (so the shards
 * hold everything acknowledged), and checks the cached lists against the
 * shards, dropping the ones that differ (reconciler/cached-lists-check.ts).
 *
 * On Redis Cluster each master is watched on its own: a master restarted
 * empty, or a replica promoted without its master's last writes, loses only
 * the slots it serves. Each master has its own marker, `redis-run:{<tag>}`
 * with a tag whose slot it serves, compared with its own run_id; the lists
 * checked are the keys of the masters that changed (the lost slots are exactly
 * theirs; a list on another master lost nothing), while the indexes, which
 * live on one master each, are rebuilt by a walk of every master.
 */
import { keyOnNode, masterNodes, nodeAddress, refreshTopology, type Cluster, type Redis, type RedisClient } from "@rs/redis";
import type { Logger } from "@rs/logger";
import type { PartitionLag } from "@rs/kafka";
import type { RelationScripts } from "../adapters/redis/relation-scripts.js";
import type { RelationKeys } from "../adapters/redis/relation-keys.js";
import { replyInt } from "../adapters/redis/script-replies.js";
import type { CachedListsReport } from "../reconciler/cached-lists-check.js";

const CATCH_UP_POLL_MS = 1_000;

export type RunChange = "same" | "restarted" | "missing";
const CHANGE: Record<number, RunChange> = { 0: "same", 1: "restarted", 2: "missing" };

/** One master's state as a check saw it. */
export interface MasterRun {
  /** `host:port` of the master (the one client itself on a single Redis). */
  readonly node: string;
  readonly runId: string;
  readonly change: RunChange;
}

export interface RedisLossWatchOptions {
  readonly redis: RedisClient;
  readonly keys: RelationKeys;
  readonly scripts: RelationScripts;
  readonly intervalMs: number;
  /** This consumer group's lag per partition (committed offset and high watermark). */
  readonly readLag: () => Promise<PartitionLag[]>;
  /** Longest wait for the group to catch up before the lists are checked anyway. */
  readonly catchUpMaxMs: number;
  /** Re-indexes every pending overlay and outbox (a walk of every master); returns how many users it indexed. */
  readonly rebuildIndexes: () => Promise<number>;
  /** Checks the cached lists on `nodes` (masters) against the shards. */
  readonly verify: (signal: AbortSignal, nodes: readonly Redis[]) => Promise<CachedListsReport>;
  readonly logger: Logger;
}

/** The server's run_id, from INFO server (of one node: on a Cluster client, pass a master's connection). */
export async function redisRunId(redis: RedisClient): Promise<string> {
  const info = await redis.info("server");
  const id = /^run_id:(\w+)/m.exec(info)?.[1];
  if (!id) throw new Error("INFO server has no run_id");
  return id;
}

export class RedisLossWatch {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  private verifying: Promise<void> | undefined;
  /**
   * Masters (`host:port`; the one server of a single Redis) that changed and whose lists no verification has taken
   * yet. A change seen while a verification ran starts another one after it.
   */
  private lost = new Set<string>();
  private readonly abort = new AbortController();
  private stopped = false;
  /** Verifications finished (tests wait on it). */
  verifications = 0;
  /** The last verification: the masters whose lists it checked (`host:port`) and what it found. */
  lastVerification: { readonly masters: readonly string[]; readonly report: CachedListsReport } | undefined;

  constructor(private readonly o: RedisLossWatchOptions) {}

  start(): void {
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    this.checking = this.check()
      .then(() => undefined)
      .catch((err: unknown) => this.o.logger.warn({ err }, "checking the Redis run_id failed"))
      .finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(() => this.tick(), this.o.intervalMs);
        this.timer.unref();
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.checking;
    await this.verifying?.catch(() => undefined);
  }

  /** Compares each master's run_id with its marker; starts a recovery for the masters that changed. */
  async check(): Promise<MasterRun[]> {
    const { redis } = this.o;
    const cluster = redis.isCluster ? (redis as Cluster) : undefined;
    // a master that restarted is back among the client's nodes only once the topology is read again
    const refreshFailed = await refreshTopology(redis);
    if (refreshFailed) this.o.logger.debug({ err: refreshFailed }, "re-reading the Redis Cluster topology failed; checking the masters known");
    const runs = await Promise.all(
      masterNodes(redis).map(async (node): Promise<MasterRun> => {
        const marker = cluster ? keyOnNode(cluster, node, (tag) => this.o.keys.redisRun(tag)) : this.o.keys.redisRun();
        // a master the client's slot table gives no slot yet (just joined, being resharded) is looked at next time
        if (marker === undefined) return { node: nodeAddress(node), runId: "", change: "same" };
        const runId = await redisRunId(node);
        const change = CHANGE[replyInt("redisRunMark", await this.o.scripts.run("redisRunMark", [marker], [runId]))] ?? "same";
        return { node: nodeAddress(node), runId, change };
      }),
    );
    const changed = runs.filter((r) => r.change !== "same");
    if (changed.length > 0) {
      this.o.logger.warn(
        { masters: changed },
        "Redis may have lost recent writes (restarted or flushed); the indexes are rebuilt and the cached lists checked once the persister caught up",
      );
      for (const r of changed) this.lost.add(r.node);
      if (!this.verifying) this.startVerification();
    }
    return runs;
  }

  private startVerification(): void {
    const lost = this.lost;
    this.lost = new Set();
    this.verifying = this.recover(lost).finally(() => {
      this.verifying = undefined;
      if (this.lost.size > 0 && !this.stopped) this.startVerification();
    });
  }

  /** The current connections of the masters in `lost`; every master when one of them is no longer a master (failed over since). */
  private lostNodes(lost: ReadonlySet<string>): Redis[] {
    const masters = masterNodes(this.o.redis);
    const nodes = masters.filter((n) => lost.has(nodeAddress(n)));
    return nodes.length === lost.size ? nodes : masters;
  }

  private async recover(lost: ReadonlySet<string>): Promise<void> {
    try {
      const indexed = await this.o.rebuildIndexes();
      this.o.logger.info({ users: indexed }, "pending overlays and outboxes re-indexed after a possible Redis data loss");
    } catch (err) {
      if (!this.stopped) this.o.logger.error({ err }, "re-indexing after a possible Redis data loss failed; the relation service re-indexes at its next start");
    }
    await this.verifyAfterCatchUp(lost);
  }

  private async verifyAfterCatchUp(lost: ReadonlySet<string>): Promise<void> {
    try {
      await this.catchUp();
      if (this.stopped) return;
      const nodes = this.lostNodes(lost);
      const report = await this.o.verify(this.abort.signal, nodes);
      this.lastVerification = { masters: nodes.map(nodeAddress), report };
      this.verifications++;
      this.o.logger.info({ ...report, masters: this.lastVerification.masters }, "cached lists checked against the shards after a possible Redis data loss");
    } catch (err) {
      if (!this.stopped)
        this.o.logger.error({ err }, "checking the cached lists after a possible Redis data loss failed; the reconciler's sample will catch what differs");
    }
  }

  /** Waits until the group committed up to the high watermarks of now (every event published so far is in the shards). */
  private async catchUp(): Promise<void> {
    const target = new Map((await this.o.readLag()).map((p) => [`${p.topic}/${p.partition}`, p.highWatermark]));
    const deadline = Date.now() + this.o.catchUpMaxMs;
    while (!this.stopped && Date.now() < deadline) {
      const lag = await this.o.readLag();
      // a partition never committed counts from its oldest record (high watermark − lag)
      if (lag.every((p) => (p.committed ?? p.highWatermark - p.lag) >= (target.get(`${p.topic}/${p.partition}`) ?? 0))) return;
      await new Promise((r) => setTimeout(r, CATCH_UP_POLL_MS));
    }
    if (!this.stopped) this.o.logger.warn({ waitedMs: this.o.catchUpMaxMs }, "the persister did not catch up in time; checking the cached lists anyway");
  }
}
