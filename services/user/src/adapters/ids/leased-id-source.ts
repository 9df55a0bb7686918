/**
 * User ids from @rs/ids with a worker id leased from etcd. If the lease is lost
 * (etcd unreachable past the TTL, key deleted), minting stops at once and a new
 * worker id is leased in the background, so registers recover by themselves
 * when etcd is back; meanwhile `next()` throws and /readyz says why.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Etcd3 } from "@rs/discovery";
import { IdGenerator, leaseWorkerId, WorkerLeaseLostError, type WorkerLease } from "@rs/ids";
import type { Logger } from "@rs/logger";
import type { IdSource } from "../../domain/ports.js";

/** Pause between attempts to lease a new worker id after losing one. */
export const LEASE_RETRY_DELAY_MS = 1_000;

export interface LeasedIdSourceOptions {
  readonly prefix: string;
  readonly ttlSeconds: number;
  readonly logger: Logger;
}

export class LeasedIdSource implements IdSource {
  private lease: WorkerLease;
  private generator: IdGenerator;
  private stopped = false;
  private releasing: Promise<void> | undefined;

  private constructor(
    private readonly etcd: Etcd3,
    private readonly options: LeasedIdSourceOptions,
    lease: WorkerLease,
  ) {
    this.lease = lease;
    this.generator = new IdGenerator(lease);
    this.watch(lease);
  }

  /** Leases a worker id (fails if etcd cannot be reached or every id is taken). */
  static async start(etcd: Etcd3, options: LeasedIdSourceOptions): Promise<LeasedIdSource> {
    const lease = await leaseWorkerId(etcd, { prefix: options.prefix, ttlSeconds: options.ttlSeconds, logger: options.logger });
    return new LeasedIdSource(etcd, options, lease);
  }

  get workerId(): number {
    return this.lease.workerId;
  }

  /** True while ids can be minted (for /readyz). */
  isHeld(): boolean {
    return !this.stopped && this.lease.isHeld();
  }

  next(): number {
    if (this.stopped) throw new WorkerLeaseLostError(this.lease.workerId);
    return this.generator.next();
  }

  /** Stops minting and frees the worker id. */
  release(): Promise<void> {
    this.stopped = true;
    this.releasing ??= this.lease.release();
    return this.releasing;
  }

  private watch(lease: WorkerLease): void {
    lease.onLost((err) => {
      this.options.logger.warn({ err, workerId: lease.workerId }, "id worker lease lost; leasing a new one");
      void this.leaseAgain();
    });
  }

  private async leaseAgain(): Promise<void> {
    while (!this.stopped) {
      try {
        const lease = await leaseWorkerId(this.etcd, { prefix: this.options.prefix, ttlSeconds: this.options.ttlSeconds, logger: this.options.logger });
        if (this.stopped) {
          await lease.release();
          return;
        }
        this.lease = lease;
        this.generator = new IdGenerator(lease);
        this.watch(lease);
        return;
      } catch (err) {
        this.options.logger.warn({ err }, "leasing a new id worker failed; retrying");
        await delay(LEASE_RETRY_DELAY_MS);
      }
    }
  }
}
