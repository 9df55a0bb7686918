/**
 * How long an etcd lease is certainly alive, from the keep-alives etcd
 * confirmed, measured on the monotonic clock (wall-clock steps cannot stretch it).
 */
import { performance } from "node:perf_hooks";
import type { Lease } from "etcd3";

const MS_PER_SECOND = 1_000;

export class KeepAliveTracker {
  /** performance.now() before which the lease is certainly alive on the server. */
  private confirmedUntil: number;
  private readonly unanswered: number[] = [];

  /**
   * Call right after `etcd.lease()`, before the grant resolves, so that no
   * keep-alive goes unseen. `grantRequestedAt` was taken before `etcd.lease()`:
   * the lease cannot expire before that moment + TTL.
   */
  constructor(lease: Lease, grantRequestedAt: number, ttlSeconds: number) {
    this.confirmedUntil = grantRequestedAt + ttlSeconds * MS_PER_SECOND;
    // A keep-alive renews the lease at some moment between sending and the
    // answer, so the lease lives at least until send time + TTL. Answers come
    // in order on one stream, so each belongs to the oldest unanswered send;
    // a new stream drops the sends of the old one.
    lease.on("keepaliveEstablished", () => (this.unanswered.length = 0));
    lease.on("keepaliveFired", () => this.unanswered.push(performance.now()));
    lease.on("keepaliveSucceeded", (res) => {
      const sentAt = this.unanswered.shift();
      const ttl = Number(res.TTL);
      if (sentAt !== undefined && ttl > 0) this.confirmedUntil = Math.max(this.confirmedUntil, sentAt + ttl * MS_PER_SECOND);
    });
  }

  /** Milliseconds the lease certainly has left (negative once that is no longer known). */
  remainingMs(): number {
    return this.confirmedUntil - performance.now();
  }
}
