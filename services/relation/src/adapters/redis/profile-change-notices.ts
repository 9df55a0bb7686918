/**
 * The user processes' profile change notices (docs/adr/0028), read from Redis
 * pub/sub on a connection of their own (a subscribed connection can send
 * nothing else). Every profile change the user service or the user-consumer
 * makes is announced, in the same script that invalidates the Redis profile
 * cache entry, as the user id on `PROFILE_CHANGES_CHANNEL`.
 *
 * Pub/sub delivers only to a connected subscriber, so a notice published while
 * this connection is down is lost: `live` is true only while subscribed, and
 * every loss of the connection is reported as a reset (the caller drops what
 * it kept, as it may have missed changes). The connection reconnects on its
 * own and subscribes again.
 *
 * On a Redis Cluster a PUBLISH reaches the subscribers of every node, so this
 * connects to one node, the first of REDIS_URL, as a plain client: ioredis's
 * cluster client would move its subscription to another node after a fault
 * without telling, and the notices published meanwhile would be lost unseen.
 * While that node is down, no profile is kept.
 */
import { closeRedis, createRedis, parseRedisClusterUrl, type RedisClient } from "@rs/redis";
import type { Logger } from "@rs/logger";
import { isUserId } from "../../domain/relation-transition.js";
import { relationMetrics } from "../../relation.metrics.js";
import type { ProfileChangeNotices } from "../../domain/ports.js";

export class RedisProfileChangeNotices implements ProfileChangeNotices {
  private readonly sub: RedisClient;
  private subscribed = false;
  private readonly liveGauge = relationMetrics.profileNoticesLive();
  private changed: (userId: number) => void = () => undefined;
  private reset: () => void = () => undefined;

  constructor(
    url: string,
    private readonly channel: string,
    private readonly logger: Logger,
    name: string,
  ) {
    this.sub = createRedis(subscriberUrl(url), { logger, name, autoPipelining: false });
    this.sub.on("message", (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const id = Number(message);
      if (isUserId(id)) {
        relationMetrics.profileNotices.inc({ event: "change" });
        this.changed(id);
      } else this.logger.warn({ channel, message }, "profile change notice is not a user id; ignored");
    });
    this.sub.on("ready", () => void this.subscribe());
    this.sub.on("close", () => this.lost());
  }

  get live(): boolean {
    return this.subscribed;
  }

  onChange(fn: (userId: number) => void): void {
    this.changed = fn;
  }

  onReset(fn: () => void): void {
    this.reset = fn;
  }

  async close(): Promise<void> {
    this.subscribed = false;
    this.liveGauge.set(0);
    await closeRedis(this.sub);
  }

  private async subscribe(): Promise<void> {
    try {
      await this.sub.subscribe(this.channel);
      if (this.sub.status !== "ready") return;
      this.subscribed = true;
      this.liveGauge.set(1);
      this.logger.info({ channel: this.channel }, "subscribed to profile change notices");
    } catch (err) {
      // the connection is going down: "close" follows and the next "ready" subscribes again
      this.logger.warn({ err, channel: this.channel }, "subscribing to profile change notices failed");
    }
  }

  /** A close while subscribed; the failed reconnects after it, and the close at shutdown, keep nothing to drop. */
  private lost(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    this.liveGauge.set(0);
    relationMetrics.profileNotices.inc({ event: "reset" });
    this.logger.warn({ channel: this.channel }, "profile change notices lost; kept profiles dropped until subscribed again");
    this.reset();
  }
}

/** REDIS_URL itself, or for a Cluster its first node as a single-server URL (with the cluster's credentials). */
export function subscriberUrl(url: string): string {
  const cluster = parseRedisClusterUrl(url);
  if (!cluster) return url;
  const node = cluster.nodes[0]!;
  const user = cluster.username === undefined ? "" : encodeURIComponent(cluster.username);
  const auth = cluster.password === undefined ? (user ? `${user}@` : "") : `${user}:${encodeURIComponent(cluster.password)}@`;
  return `redis://${auth}${node.host}:${node.port}`;
}
