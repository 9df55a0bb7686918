import { setTimeout as sleep } from "node:timers/promises";
import { ExponentialBackoff, type IBackoff } from "cockatiel";
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from "etcd3";
import type { Logger } from "@rs/logger";
import { decodeInstance, servicePrefix, type Instance } from "./instance.js";
import { InstanceTable } from "./instance-table.js";

/**
 * How long an instance missing from a re-listing is kept (see
 * {@link InstanceTable}). Longer than a registration needs to notice a lost
 * lease and register again (keep-alive every TTL/3, then its backoff).
 */
export const RESYNC_GRACE_MS = 15_000;
const RESYNC_BACKOFF_INITIAL_MS = 100;
/** Longest pause between re-listing attempts while etcd is unreachable. */
export const RESYNC_BACKOFF_MAX_MS = 2_000;
/** How long to wait for etcd to confirm a watch cancellation. */
const WATCH_CANCEL_TIMEOUT_MS = 1_000;

export interface WatchOptions {
  readonly logger: Logger;
  /** See {@link RESYNC_GRACE_MS}. */
  readonly graceMs?: number;
}

/** The live instances of one service, kept current from etcd. */
export interface ServiceWatcher {
  readonly service: string;
  /** The current list, ordered by instance id. The last known list while etcd is unreachable. */
  instances(): Instance[];
  /** Calls `listener` with the new list after every change; returns the unsubscribe function. */
  onChange(listener: (instances: Instance[]) => void): () => void;
  /** Resolves once the first full list has been loaded. */
  ready(): Promise<void>;
  /** Stops watching. */
  close(): Promise<void>;
}

/**
 * Watches `/services/<service>/`: a full listing, then a watch from the
 * listing's revision. Whenever the watch breaks (etcd restarted or
 * unreachable), the list is kept as it is and the listing + watch is redone
 * with backoff until etcd answers. A re-listing replaces the list, except that
 * instances it no longer shows are kept for a grace period, because an etcd
 * that lost its data shows nothing until the live instances register again.
 */
export function watchService(etcd: Etcd3, service: string, opts: WatchOptions): ServiceWatcher {
  return new EtcdServiceWatcher(etcd, service, opts);
}

class EtcdServiceWatcher implements ServiceWatcher {
  private readonly prefix: string;
  private readonly table: InstanceTable;
  private readonly listeners = new Set<(instances: Instance[]) => void>();
  private readonly closing = new AbortController();
  private readonly logger: Logger;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** The watch whose events apply; events of one being torn down are ignored. */
  private current: Watcher | undefined;
  private readonly loop: Promise<void>;

  constructor(
    private readonly etcd: Etcd3,
    readonly service: string,
    opts: WatchOptions,
  ) {
    this.prefix = servicePrefix(service);
    this.table = new InstanceTable(opts.graceMs ?? RESYNC_GRACE_MS);
    this.logger = opts.logger.child({ component: "service-watcher", service });
    this.readyPromise = new Promise((resolve) => (this.resolveReady = resolve));
    this.loop = this.run();
  }

  instances(): Instance[] {
    return this.table.list();
  }

  onChange(listener: (instances: Instance[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  async close(): Promise<void> {
    this.closing.abort();
    clearTimeout(this.expiryTimer);
    this.listeners.clear();
    await this.loop;
  }

  private async run(): Promise<void> {
    const fresh = () => new ExponentialBackoff({ initialDelay: RESYNC_BACKOFF_INITIAL_MS, maxDelay: RESYNC_BACKOFF_MAX_MS }).next();
    let backoff: IBackoff<unknown> = fresh();
    let failing = false;
    while (!this.closing.signal.aborted) {
      try {
        await this.listAndWatch(() => {
          backoff = fresh();
          if (failing) this.logger.info({ instances: this.table.list().length }, "etcd watch re-established");
          failing = false;
        });
      } catch (err) {
        if (this.closing.signal.aborted) break;
        // One warning per outage; the retries in between are debug noise.
        if (failing) this.logger.debug({ err }, "etcd still unreachable");
        else this.logger.warn({ err, keeping: this.table.list().length }, "etcd watch lost; keeping the last known list");
        failing = true;
        try {
          await sleep(backoff.duration, undefined, { signal: this.closing.signal });
        } catch {
          break;
        }
        backoff = backoff.next(undefined);
      }
    }
  }

  /** One listing plus a watch from its revision; returns/throws when the watch ends. */
  private async listAndWatch(onWatching: () => void): Promise<void> {
    const res = await this.etcd.getAll().prefix(this.prefix).exec();
    if (this.closing.signal.aborted) return;
    const listed: Instance[] = [];
    for (const kv of res.kvs) {
      const instance = this.decode(kv);
      if (instance) listed.push(instance);
    }
    if (this.table.resync(listed, Date.now())) this.emit();
    this.scheduleExpiry();
    this.resolveReady();

    const listRevision = BigInt(res.header.revision);
    const watcher = this.etcd
      .watch()
      .prefix(this.prefix)
      .startRevision((listRevision + 1n).toString())
      .watcher();
    this.current = watcher;
    let onClose: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        watcher.on("put", (kv: IKeyValue) => this.current === watcher && this.onPut(kv));
        watcher.on("delete", (kv: IKeyValue) => this.current === watcher && this.onDelete(kv));
        watcher.on("connected", (created: IWatchResponse) => {
          // A revision below the listing's means etcd lost its data in between:
          // this watch would stay silent until the counter caught up.
          if (BigInt(created.header.revision) < listRevision) reject(new Error("etcd revision went backwards"));
          else onWatching();
        });
        watcher.on("disconnected", (err: Error) => reject(err));
        watcher.on("error", (err: Error) => reject(err));
        onClose = () => resolve();
        this.closing.signal.addEventListener("abort", onClose, { once: true });
      });
    } finally {
      if (onClose) this.closing.signal.removeEventListener("abort", onClose);
      this.current = undefined;
      await this.cancel(watcher);
    }
  }

  private async cancel(watcher: Watcher): Promise<void> {
    // etcd3 waits for the server to confirm; a stream that breaks meanwhile
    // would never confirm, so the wait is bounded.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([watcher.cancel().catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, WATCH_CANCEL_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }

  private onPut(kv: IKeyValue): void {
    const instance = this.decode(kv);
    if (instance && this.table.upsert(instance)) this.emit();
  }

  private onDelete(kv: IKeyValue): void {
    const key = kv.key.toString();
    if (this.table.remove(key.slice(this.prefix.length))) this.emit();
  }

  private decode(kv: IKeyValue): Instance | undefined {
    const key = kv.key.toString();
    const instance = decodeInstance(key, kv.value.toString());
    // Deeper keys are not instances of this service.
    if (!instance || key.slice(this.prefix.length).includes("/")) {
      this.logger.warn({ key }, "ignoring malformed registration");
      return undefined;
    }
    return instance;
  }

  private scheduleExpiry(): void {
    clearTimeout(this.expiryTimer);
    const at = this.table.nextExpiry();
    if (at === undefined || this.closing.signal.aborted) return;
    this.expiryTimer = setTimeout(
      () => {
        if (this.table.expire(Date.now())) {
          this.logger.info("dropped instances that did not register again after an etcd re-listing");
          this.emit();
        }
        this.scheduleExpiry();
      },
      Math.max(0, at - Date.now()),
    );
    this.expiryTimer.unref();
  }

  private emit(): void {
    const list = this.table.list();
    this.logger.debug({ instances: list.map((i) => i.instanceId) }, "instances changed");
    for (const listener of this.listeners) {
      try {
        listener(list);
      } catch (err) {
        this.logger.error({ err }, "service watcher listener threw");
      }
    }
  }
}
