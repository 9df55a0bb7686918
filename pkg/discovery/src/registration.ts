import { setTimeout as sleep } from "node:timers/promises";
import { ExponentialBackoff, type IBackoff } from "cockatiel";
import type { Etcd3, Lease } from "etcd3";
import type { Logger } from "@rs/logger";
import { encodeInstance, instanceKey, type Instance } from "./instance.js";

/** First delay before registering again after a failure. */
export const REGISTER_BACKOFF_INITIAL_MS = 200;
/** Longest delay between attempts to register again. */
export const REGISTER_BACKOFF_MAX_MS = 5_000;
/** How long {@link registerInstance} keeps trying before it gives up. */
export const REGISTER_TIMEOUT_MS = 15_000;

export interface RegisterOptions {
  readonly service: string;
  readonly instanceId: string;
  /** `host:port` other processes dial. */
  readonly address: string;
  /** Lease TTL: how long the key outlives a dead process. */
  readonly ttlSeconds: number;
  readonly logger: Logger;
  /** How long the first registration may take (default {@link REGISTER_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
}

/** A live registration; keeps itself in etcd until {@link Registration.deregister}. */
export interface Registration {
  readonly key: string;
  readonly instance: Instance;
  /** Whether the key is currently held under a live lease (for readiness and tests). */
  isRegistered(): boolean;
  /** Revokes the lease, so the key disappears at once (shutdown). Never throws. */
  deregister(): Promise<void>;
}

/**
 * Puts `/services/<service>/<instanceId>` under a lease with keep-alive and
 * keeps it there: when the lease is lost (etcd restarted, even with its data
 * wiped, or unreachable past the TTL) a new lease and key are created, retried
 * with exponential backoff until etcd answers again.
 *
 * Resolves once the key is written; rejects if that does not happen within
 * `timeoutMs`, so a process never runs unregistered without noticing at start.
 */
export async function registerInstance(etcd: Etcd3, opts: RegisterOptions): Promise<Registration> {
  const reg = new LeasedRegistration(etcd, opts);
  await reg.start(opts.timeoutMs ?? REGISTER_TIMEOUT_MS);
  return reg;
}

class LeasedRegistration implements Registration {
  readonly key: string;
  readonly instance: Instance;
  private lease: Lease | undefined;
  private repairing: Promise<void> | undefined;
  private readonly stop = new AbortController();
  private readonly logger: Logger;

  constructor(
    private readonly etcd: Etcd3,
    private readonly opts: RegisterOptions,
  ) {
    this.key = instanceKey(opts.service, opts.instanceId);
    this.instance = { instanceId: opts.instanceId, address: opts.address, startedAt: new Date().toISOString() };
    this.logger = opts.logger.child({ component: "registration", key: this.key });
  }

  async start(timeoutMs: number): Promise<void> {
    const timer = setTimeout(() => this.stop.abort(new Error(`not registered in etcd within ${timeoutMs} ms`)), timeoutMs);
    try {
      await this.repair();
    } finally {
      clearTimeout(timer);
    }
    if (!this.lease) {
      const reason: unknown = this.stop.signal.reason;
      throw reason instanceof Error ? reason : new Error("registration stopped");
    }
  }

  isRegistered(): boolean {
    return this.lease !== undefined && !this.lease.revoked();
  }

  async deregister(): Promise<void> {
    if (!this.stop.signal.aborted) this.stop.abort(new Error("deregistered"));
    await this.repairing;
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    try {
      await lease.revoke();
      this.logger.info("deregistered");
    } catch (err) {
      // The key still goes when the lease's TTL runs out.
      this.logger.warn({ err }, "lease revoke failed; the key expires with its TTL");
    }
  }

  /** Registers again until it works or we stop; concurrent calls share one loop. */
  private repair(): Promise<void> {
    this.repairing ??= this.repairLoop().finally(() => {
      this.repairing = undefined;
    });
    return this.repairing;
  }

  private async repairLoop(): Promise<void> {
    let backoff: IBackoff<unknown> = new ExponentialBackoff({
      initialDelay: REGISTER_BACKOFF_INITIAL_MS,
      maxDelay: REGISTER_BACKOFF_MAX_MS,
    }).next();
    while (!this.stop.signal.aborted) {
      try {
        await this.grantAndPut();
        this.logger.info({ address: this.instance.address, ttlSeconds: this.opts.ttlSeconds }, "registered");
        return;
      } catch (err) {
        this.logger.warn({ err, retryInMs: Math.round(backoff.duration) }, "registration failed; retrying");
        try {
          await sleep(backoff.duration, undefined, { signal: this.stop.signal });
        } catch {
          return; // stopped while waiting
        }
        backoff = backoff.next(undefined);
      }
    }
  }

  private async grantAndPut(): Promise<void> {
    const lease = this.etcd.lease(this.opts.ttlSeconds, { autoKeepAlive: true });
    this.lease = lease;
    lease.on("lost", (err: Error) => this.onLost(lease, err));
    try {
      await lease.put(this.key).value(encodeInstance(this.instance));
      // The lease can be lost while the put is in flight; then this try failed.
      if (this.lease !== lease || this.stop.signal.aborted) throw new Error("lease lost while registering");
    } catch (err) {
      if (this.lease === lease) this.lease = undefined;
      // The put may have landed even though we saw it fail: take the key away
      // rather than leave it until the TTL runs out.
      void lease.revoke().catch(() => undefined);
      throw err;
    }
  }

  private onLost(lease: Lease, err: Error): void {
    if (lease !== this.lease || this.stop.signal.aborted) return;
    this.lease = undefined;
    this.logger.warn({ err: err.message }, "etcd lease lost; registering again");
    void this.repair();
  }
}
