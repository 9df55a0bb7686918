import type { Instance } from "./instance.js";

interface Entry {
  instance: Instance;
  /** Set when a full re-listing no longer showed this instance. */
  staleSince?: number;
}

const sameInstance = (a: Instance, b: Instance) => a.instanceId === b.instanceId && a.address === b.address && a.startedAt === b.startedAt;

/**
 * The known instances of one service, kept from etcd events and listings.
 *
 * Watch events (put/delete) are exact and apply at once. A full re-listing
 * after a reconnect is not: if etcd came back with its data wiped, the list is
 * empty until the live instances notice and register again. So an instance a
 * listing no longer shows is only marked stale and kept for `graceMs`; if it
 * registers again in that time it stays, otherwise it is dropped. Nothing stale
 * lives forever, and nothing live is dropped because etcd lost its memory.
 */
export class InstanceTable {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly graceMs: number) {}

  /** Adds or updates one instance (a put event). Returns whether the list changed. */
  upsert(instance: Instance): boolean {
    const prev = this.entries.get(instance.instanceId);
    this.entries.set(instance.instanceId, { instance });
    return prev === undefined || !sameInstance(prev.instance, instance);
  }

  /** Removes one instance (a delete event: deregistered or lease expired). */
  remove(instanceId: string): boolean {
    return this.entries.delete(instanceId);
  }

  /**
   * Applies a full listing taken at `now`: listed instances are set (and are no
   * longer stale); known ones missing from it become stale. Returns whether the
   * visible list changed (marking stale does not change it).
   */
  resync(listed: readonly Instance[], now: number): boolean {
    let changed = false;
    const seen = new Set<string>();
    for (const instance of listed) {
      seen.add(instance.instanceId);
      if (this.upsert(instance)) changed = true;
    }
    for (const [id, entry] of this.entries) {
      if (!seen.has(id) && entry.staleSince === undefined) entry.staleSince = now;
    }
    return changed;
  }

  /** Drops stale entries whose grace has run out by `now`. Returns whether any went. */
  expire(now: number): boolean {
    let changed = false;
    for (const [id, entry] of this.entries) {
      if (entry.staleSince !== undefined && now - entry.staleSince >= this.graceMs) {
        this.entries.delete(id);
        changed = true;
      }
    }
    return changed;
  }

  /** When the next stale entry's grace ends, or undefined if none is stale. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const entry of this.entries.values()) {
      if (entry.staleSince === undefined) continue;
      const at = entry.staleSince + this.graceMs;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** The instances, ordered by id (stable order for round-robin and for tests). */
  list(): Instance[] {
    return [...this.entries.values()].map((e) => e.instance).sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
  }
}
