/**
 * Notices when Redis may have lost writes and has the cached lists verified.
 *
 * Redis restarted after a crash reloads its append-only file, which may miss
 * its last second (appendfsync everysec): following:{A} and fans:{B} come back
 * without transitions that were acknowledged and published. Their events
 * still reach the shards, but nothing would correct the cached lists before
 * their TTL (a day). The watch reads the server's run_id every interval and
 * compares it with a marker kept in the keyspace; a changed or missing marker
 * means the keyspace may be behind. Then it waits until this persister group
 * has persisted every event published before that moment (so the shards hold
 * everything acknowledged), and checks every cached list against the shards,
 * dropping the ones that differ (reconciler/cached-lists-check.ts).
 */
import type { RedisClient } from "@rs/redis";
import type { Logger } from "@rs/logger";
import type { PartitionLag } from "@rs/kafka";
import type { RelationScripts } from "../adapters/redis/lua-scripts.js";
import type { RelationKeys } from "../adapters/redis/relation-keys.js";
import { replyInt } from "../adapters/redis/script-replies.js";
import type { CachedListsReport } from "../reconciler/cached-lists-check.js";

const CATCH_UP_POLL_MS = 1_000;

export type RunChange = "same" | "restarted" | "missing";
const CHANGE: Record<number, RunChange> = { 0: "same", 1: "restarted", 2: "missing" };

export interface RedisLossWatchOptions {
  readonly redis: RedisClient;
  readonly keys: RelationKeys;
  readonly scripts: RelationScripts;
  readonly intervalMs: number;
  /** This consumer group's lag per partition (committed offset and high watermark). */
  readonly readLag: () => Promise<PartitionLag[]>;
  /** Longest wait for the group to catch up before the lists are checked anyway. */
  readonly catchUpMaxMs: number;
  readonly verify: (signal: AbortSignal) => Promise<CachedListsReport>;
  readonly logger: Logger;
}

/** The server's run_id, from INFO server. */
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
  /** A change seen while a verification ran: run another one after it (from a fresh catch-up point). */
  private again = false;
  private readonly abort = new AbortController();
  private stopped = false;
  /** Verifications finished (tests wait on it). */
  verifications = 0;

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

  /** Compares the run_id with the marker; starts a verification on a change. */
  async check(): Promise<RunChange> {
    const runId = await redisRunId(this.o.redis);
    const change = CHANGE[replyInt("redisRunMark", await this.o.scripts.run("redisRunMark", [this.o.keys.redisRun()], [runId]))] ?? "same";
    if (change !== "same") {
      this.o.logger.warn(
        { runId, change },
        "Redis may have lost recent writes (restarted or flushed); the cached lists are checked once the persister caught up",
      );
      if (this.verifying) this.again = true;
      else this.startVerification();
    }
    return change;
  }

  private startVerification(): void {
    this.verifying = this.verifyAfterCatchUp().finally(() => {
      this.verifying = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.startVerification();
      }
    });
  }

  private async verifyAfterCatchUp(): Promise<void> {
    try {
      await this.catchUp();
      if (this.stopped) return;
      const report = await this.o.verify(this.abort.signal);
      this.verifications++;
      this.o.logger.info(report, "cached lists checked against the shards after a possible Redis data loss");
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
