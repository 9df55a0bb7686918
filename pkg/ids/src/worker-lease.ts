/**
 * Leasing a worker id from etcd, so that no two live generators share one.
 *
 * An instance claims the lowest free `<prefix><n>` key with a transaction
 * "create if absent", attached to an etcd lease it keeps alive. The key
 * vanishes when the lease is revoked (release) or expires (crash), which frees
 * the id. On release the holder also records the last millisecond it minted
 * (`<prefix><n>/last-minted`, no lease), and the next holder starts after it,
 * so a reused worker id never repeats an id even if its clock is a bit behind.
 */
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import type { Etcd3, Lease, Watcher } from "etcd3";
import type { Logger } from "@rs/logger";
import { MAX_WORKERS } from "./id-layout.js";
import type { WorkerIdSource } from "./id-generator.js";
import { KeepAliveTracker } from "./keep-alive-tracker.js";

export const DEFAULT_WORKER_PREFIX = "/ids/workers/";
/**
 * The lease counts as held only while its confirmed expiry is at least this
 * far away: the margin covers clock-rate drift and the time between deciding
 * to mint and minting.
 */
export const DEFAULT_SAFETY_MARGIN_MS = 1_000;
/** How long a new holder waits for its clock to pass the previous holder's last millisecond. */
export const DEFAULT_MAX_CLOCK_SKEW_WAIT_MS = 5_000;
/** How often the lease checks, between keep-alives, whether its confirmed expiry has passed. */
const EXPIRY_CHECK_INTERVAL_MS = 250;
const LAST_MINTED_SUFFIX = "/last-minted";
const MS_PER_SECOND = 1_000;

export interface LeaseWorkerIdOptions {
  /** Key prefix; each worker id is `<prefix><n>`. Default {@link DEFAULT_WORKER_PREFIX}. */
  readonly prefix?: string;
  /** Worker ids to choose from, 0 … maxWorkers-1 (at most {@link MAX_WORKERS}). */
  readonly maxWorkers?: number;
  /** TTL of the etcd lease: how long a crashed holder keeps its id. */
  readonly ttlSeconds: number;
  readonly logger: Logger;
  readonly safetyMarginMs?: number;
  readonly maxClockSkewWaitMs?: number;
  /** Recorded in the key for operators; default `<hostname>:<pid>`. */
  readonly instance?: string;
}

/** A leased worker id. Feed it to an {@link IdGenerator}. */
export interface WorkerLease extends WorkerIdSource {
  readonly workerId: number;
  /** The etcd key that holds the claim. */
  readonly key: string;
  /**
   * True while the id is certainly still ours: not lost, not released, and
   * the last keep-alive etcd confirmed keeps the lease alive for longer than
   * the safety margin. May turn true again when a late keep-alive arrives.
   */
  isHeld(): boolean;
  /** True once the lease is lost for good (expired, revoked or key deleted by someone else). */
  isLost(): boolean;
  /** Calls `listener` once if the lease is lost (not on release); returns an unsubscribe function. */
  onLost(listener: (err: Error) => void): () => void;
  /** Stops minting, records the last minted millisecond, revokes the lease (frees the id). Idempotent. */
  release(): Promise<void>;
}

/** Every worker id under the prefix is held by a live instance. */
export class NoFreeWorkerIdError extends Error {
  constructor(prefix: string, maxWorkers: number) {
    super(`all ${maxWorkers} worker ids under ${prefix} are taken`);
    this.name = "NoFreeWorkerIdError";
  }
}

class EtcdWorkerLease implements WorkerLease {
  private lost: Error | undefined;
  private released: Promise<void> | undefined;
  private readonly listeners = new Set<(err: Error) => void>();
  private watcher: Watcher | undefined;
  private readonly timer: NodeJS.Timeout;
  private lastMintedMs = 0;

  constructor(
    private readonly etcd: Etcd3,
    private readonly lease: Lease,
    private readonly validity: KeepAliveTracker,
    readonly workerId: number,
    readonly key: string,
    readonly notBeforeMs: number,
    private readonly safetyMarginMs: number,
    private readonly logger: Logger,
  ) {
    this.lease.on("lost", (err) => this.markLost(err));
    this.timer = setInterval(() => this.checkExpiry(), EXPIRY_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  async watchKey(fromRevision: string): Promise<void> {
    const watcher = await this.etcd.watch().key(this.key).startRevision(fromRevision).create();
    watcher.on("delete", () => this.markLost(new Error(`worker key ${this.key} was deleted by someone else`)));
    watcher.on("error", (err) => this.logger.warn({ err, key: this.key }, "worker key watch error"));
    this.watcher = watcher;
    if (this.lost || this.released) await watcher.cancel();
  }

  isHeld(): boolean {
    if (this.lost || this.released) return false;
    return this.validity.remainingMs() > this.safetyMarginMs;
  }

  isLost(): boolean {
    return this.lost !== undefined;
  }

  noteMinted(unixMs: number): void {
    if (unixMs > this.lastMintedMs) this.lastMintedMs = unixMs;
  }

  onLost(listener: (err: Error) => void): () => void {
    if (this.lost) {
      listener(this.lost);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private checkExpiry(): void {
    if (!this.lost && !this.released && this.validity.remainingMs() <= 0) {
      this.markLost(new Error(`no keep-alive of worker id ${this.workerId} confirmed within the lease TTL`));
    }
  }

  private markLost(err: Error): void {
    if (this.lost || this.released) return;
    this.lost = err;
    clearInterval(this.timer);
    this.logger.warn({ err, workerId: this.workerId, key: this.key }, "worker id lease lost; id generation stops");
    void this.watcher?.cancel().catch(() => undefined);
    // If etcd still has the lease, free the id now rather than at expiry.
    void this.lease.revoke().catch(() => undefined);
    for (const listener of this.listeners) listener(err);
    this.listeners.clear();
  }

  release(): Promise<void> {
    this.released ??= (async () => {
      clearInterval(this.timer);
      await this.watcher?.cancel().catch(() => undefined);
      if (!this.lost) {
        // Written before the key disappears, so whoever claims it next reads it.
        const last = Math.max(this.lastMintedMs, Date.now());
        await this.etcd.put(this.key + LAST_MINTED_SUFFIX).value(String(last));
        await this.lease.revoke();
      }
      this.logger.info({ workerId: this.workerId, key: this.key }, "worker id released");
    })();
    return this.released;
  }
}

async function claimLowestFree(
  etcd: Etcd3,
  prefix: string,
  maxWorkers: number,
  leaseId: string,
  value: string,
): Promise<{ workerId: number; revision: string } | undefined> {
  const taken = new Set(
    (await etcd.getAll().prefix(prefix).keys())
      .map((k) => k.slice(prefix.length))
      .filter((rest) => /^\d+$/.test(rest))
      .map(Number),
  );
  for (let n = 0; n < maxWorkers; n++) {
    if (taken.has(n)) continue;
    const key = prefix + String(n);
    // Create-if-absent: of two instances racing for n, exactly one succeeds.
    const res = await etcd.if(key, "Create", "==", 0).then(etcd.put(key).value(value).lease(leaseId)).commit();
    if (res.succeeded) return { workerId: n, revision: res.header.revision };
  }
  return undefined;
}

async function waitForClockPast(lastMintedMs: number, maxWaitMs: number, key: string): Promise<void> {
  const behind = lastMintedMs - Date.now();
  if (behind >= maxWaitMs) {
    throw new Error(`clock is ${behind} ms behind the previous holder of ${key}; fix the clock (NTP) before minting ids`);
  }
  while (Date.now() <= lastMintedMs) await delay(lastMintedMs - Date.now() + 1);
}

/**
 * Claims the lowest free worker id under `prefix` with an etcd lease kept
 * alive in the background. Two live holders never get the same id; a
 * released or expired id is reused.
 *
 * @throws NoFreeWorkerIdError when every id is held; etcd errors if etcd is unreachable.
 */
export async function leaseWorkerId(etcd: Etcd3, opts: LeaseWorkerIdOptions): Promise<WorkerLease> {
  const prefix = (opts.prefix ?? DEFAULT_WORKER_PREFIX).replace(/\/?$/, "/");
  const maxWorkers = opts.maxWorkers ?? MAX_WORKERS;
  const margin = opts.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
  if (!Number.isInteger(maxWorkers) || maxWorkers < 1 || maxWorkers > MAX_WORKERS) {
    throw new RangeError(`maxWorkers must be 1-${MAX_WORKERS}, got ${maxWorkers}`);
  }
  if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds * MS_PER_SECOND <= 2 * margin) {
    throw new RangeError(`ttlSeconds must be an integer above twice the safety margin (${margin} ms), got ${opts.ttlSeconds}`);
  }

  const grantRequestedAt = performance.now();
  const lease = etcd.lease(opts.ttlSeconds);
  const validity = new KeepAliveTracker(lease, grantRequestedAt, opts.ttlSeconds);
  let holder: EtcdWorkerLease | undefined;
  try {
    const leaseId = await lease.grant();
    const value = JSON.stringify({ instance: opts.instance ?? `${hostname()}:${process.pid}`, since: new Date().toISOString() });
    const claim = await claimLowestFree(etcd, prefix, maxWorkers, leaseId, value);
    if (!claim) throw new NoFreeWorkerIdError(prefix, maxWorkers);
    const key = prefix + String(claim.workerId);
    const lastMinted = Number((await etcd.get(key + LAST_MINTED_SUFFIX).string()) ?? 0);
    await waitForClockPast(lastMinted, opts.maxClockSkewWaitMs ?? DEFAULT_MAX_CLOCK_SKEW_WAIT_MS, key);
    holder = new EtcdWorkerLease(etcd, lease, validity, claim.workerId, key, lastMinted, margin, opts.logger);
    await holder.watchKey(String(BigInt(claim.revision) + 1n));
    opts.logger.info({ workerId: claim.workerId, key, ttlSeconds: opts.ttlSeconds }, "worker id leased");
    return holder;
  } catch (err) {
    if (holder) await holder.release().catch(() => undefined);
    else await lease.revoke().catch(() => undefined);
    throw err;
  }
}
