/**
 * An in-process cache of only the hottest keys: a sliding-window top-K decides
 * which keys are hot, a map with a short TTL per entry holds their values. The
 * top-K already decides what stays (a key that cools down is dropped when the
 * hot set is recomputed), so the map needs no LRU order of its own: a lookup
 * is one map read and a clock compare.
 * Cold keys always go to `load` (Redis behind it), so the process holds little
 * and serves the few keys that take most of the traffic without a network hop.
 * The short TTL bounds how stale a hot value may be across instances.
 *
 * Refresh ahead (`refreshAfterMs`): a held value that was looked up since it
 * was loaded becomes due for a reload at that age (one first looked up later,
 * at that lookup) and is reported by {@link HotKeyCache.takeDue}, while it is
 * still served; the caller reloads
 * such keys in batches off the request path and hands them to `offer`. So the
 * keys in use never expire under their readers, who would each wait on a
 * load of their own. The TTL stays the bound: a value whose reload has not
 * arrived by then is not served.
 */
import { Singleflight } from "./singleflight.js";
import { SlidingWindowTopK } from "./sliding-window-top-k.js";

export const HOT_KEY_DEFAULTS = {
  /** Keys kept in process (K of the top-K). */
  maxEntries: 1_000,
  /** How long a hot value is served without asking `load` again. */
  ttlMs: 1_000,
  /** The window a key must be hot in. */
  windowMs: 10_000,
  buckets: 10,
  /** Hits per window below which a key is not worth keeping. */
  minHits: 20,
} as const;

export interface HotKeyCacheOptions {
  readonly maxEntries?: number;
  readonly ttlMs?: number;
  readonly windowMs?: number;
  readonly buckets?: number;
  readonly minHits?: number;
  readonly maxKeysPerBucket?: number;
  /**
   * Of the lookups of a key held in process, count one in this many, chosen at
   * random, as this many hits (default 1: every lookup). A held key is looked
   * up often, so sampling keeps it hot all the same (like Redis's probabilistic
   * LFU counter) for a fraction of the counting; lookups of keys not held are
   * always counted one by one, so what makes a key hot is unchanged.
   */
  readonly sampleEvery?: number;
  /**
   * Age (ms, below `ttlMs`) at which a held value that was looked up since it
   * was loaded is due for a reload ({@link HotKeyCache.takeDue}); undefined:
   * never (a value is loaded again only after its TTL has ended).
   */
  readonly refreshAfterMs?: number;
  /** Clock in ms for both the window and the TTL; tests move it. */
  readonly now?: () => number;
  /** Random numbers in [0, 1) for the sampling; tests fix them. */
  readonly random?: () => number;
}

export interface HotKeyCacheStats {
  hits: number;
  misses: number;
}

/**
 * One service's settings for a hot-key cache (docs/adr/0018): how many keys it
 * keeps (0: none), how long a kept value is served (the staleness bound), and
 * how often within the window of {@link HOT_KEY_DEFAULTS} a key must be asked
 * for to be kept.
 */
export interface HotKeySettings {
  readonly size: number;
  readonly ttlMs: number;
  readonly minHits: number;
  /** Count one lookup in this many (default 1, every lookup); see {@link HotKeyCacheOptions.sampleEvery}. */
  readonly sampleEvery?: number;
  /** See {@link HotKeyCacheOptions.refreshAfterMs}. */
  readonly refreshAfterMs?: number;
  /** Clock in ms (tests move it). */
  readonly now?: () => number;
}

/** The hot-key cache of `settings`, or undefined when its size is 0 (off). */
export function hotKeyCache<V extends NonNullable<unknown>, K extends string | number = string>(settings: HotKeySettings): HotKeyCache<V, K> | undefined {
  if (settings.size <= 0) return undefined;
  return new HotKeyCache<V, K>({
    maxEntries: settings.size,
    ttlMs: settings.ttlMs,
    minHits: settings.minHits,
    sampleEvery: settings.sampleEvery,
    refreshAfterMs: settings.refreshAfterMs,
    now: settings.now,
  });
}

interface Held<V> {
  readonly value: V;
  readonly expiresAt: number;
  /** When it is due for a reload if it was looked up by then (Infinity: never). */
  readonly refreshAt: number;
  /** Looked up since it was loaded. */
  used: boolean;
  /** Past refreshAt without a lookup: the next lookup makes it due. */
  idle: boolean;
}

/** A loaded value in load order, for refresh ahead. */
interface Loaded<K, V> {
  readonly key: K;
  readonly held: Held<V>;
}

/** `K`: string keys, or numbers (ids) so a lookup builds no string. */
export class HotKeyCache<V extends NonNullable<unknown>, K extends string | number = string> {
  private readonly held = new Map<K, Held<V>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly sampleEvery: number;
  private readonly random: () => number;
  private readonly tracker: SlidingWindowTopK<K>;
  private readonly loads = new Singleflight<K, V>();
  private readonly refreshAfterMs: number;
  /** Values as they were loaded (refresh ahead only), oldest first from `loadedHead` on: their refreshAt is in that order too. */
  private loaded: Loaded<K, V>[] = [];
  private loadedHead = 0;
  /** Idle values looked up again (due from that lookup), oldest first, with when they became due. */
  private late: (Loaded<K, V> & { readonly since: number })[] = [];
  readonly stats: HotKeyCacheStats = { hits: 0, misses: 0 };

  constructor(options: HotKeyCacheOptions = {}) {
    const o = { ...HOT_KEY_DEFAULTS, ...options };
    const now = options.now ?? Date.now;
    this.maxEntries = o.maxEntries;
    this.ttlMs = o.ttlMs;
    this.now = now;
    this.sampleEvery = options.sampleEvery ?? 1;
    if (!Number.isInteger(this.sampleEvery) || this.sampleEvery < 1) throw new RangeError("sampleEvery must be an integer >= 1");
    this.random = options.random ?? Math.random;
    this.refreshAfterMs = options.refreshAfterMs ?? Infinity;
    if (!(this.refreshAfterMs > 0)) throw new RangeError("refreshAfterMs must be positive");
    this.tracker = new SlidingWindowTopK<K>({
      windowMs: o.windowMs,
      buckets: o.buckets,
      k: o.maxEntries,
      minHits: o.minHits,
      maxKeysPerBucket: options.maxKeysPerBucket,
      now,
      // A key that cooled down leaves the process at once, not when its TTL ends; so does an expired one.
      onRecompute: (hot) => {
        const t = now();
        for (const [key, h] of this.held) if (!hot.has(key) || h.expiresAt <= t) this.held.delete(key);
      },
    });
  }

  /**
   * The value of `key`: from process memory when the key is hot and fresh, else
   * from `load` (concurrent misses of one key share one load). Errors of `load`
   * are not cached.
   */
  async get(key: K, load: (key: K) => Promise<V>): Promise<V> {
    const cached = this.lookup(key);
    if (cached !== undefined) return cached;
    const value = await this.loads.do(key, () => load(key));
    this.offer(key, value);
    return value;
  }

  /**
   * Counts a use of `key` and returns its value when it is held (hot and
   * fresh), else undefined: the caller loads it (for many keys, in one batch)
   * and hands it to {@link offer}.
   */
  lookup(key: K): V | undefined {
    const cached = this.fresh(key);
    if (cached === undefined || this.sampleEvery === 1) this.tracker.record(key);
    else if (this.random() * this.sampleEvery < 1) this.tracker.record(key, this.sampleEvery);
    if (cached !== undefined) this.stats.hits++;
    else this.stats.misses++;
    return cached;
  }

  /** Keeps a freshly loaded `value` of `key` in process if the key is hot. */
  offer(key: K, value: V): void {
    if (!this.tracker.isHot(key)) return;
    // Keys admitted between two recomputes may outnumber maxEntries for a moment: the oldest entry makes room.
    if (this.held.size >= this.maxEntries && !this.held.has(key)) this.held.delete(this.held.keys().next().value as K);
    const t = this.now();
    const held: Held<V> = { value, expiresAt: t + this.ttlMs, refreshAt: t + this.refreshAfterMs, used: false, idle: false };
    this.held.set(key, held);
    if (this.refreshAfterMs !== Infinity) {
      // bounded even if nobody takes the due keys: what is older than the last maxEntries loads cannot be due any more
      if (this.loaded.length - this.loadedHead >= 2 * this.maxEntries) this.loadedHead++;
      this.loaded.push({ key, held });
    }
  }

  /**
   * How long (ms) the oldest due reload has been due, or undefined when none
   * is: a caller gathers due keys for a while and then takes them together.
   */
  dueForMs(): number | undefined {
    const t = this.now();
    const next = this.nextDue(t)?.held.refreshAt;
    const late = this.late[0]?.since;
    const since = next === undefined ? late : late === undefined ? next : Math.min(next, late);
    return since === undefined ? undefined : t - since;
  }

  /**
   * The keys due for a reload, oldest first, at most `max` of them (the rest
   * stay due): each held, looked up since it was loaded, and loaded at least
   * `refreshAfterMs` ago. Each load of a key is reported once; the caller
   * reloads them and hands the values to {@link offer}. A key whose reload
   * fails is not reported again; it leaves when its TTL ends.
   */
  takeDue(max = Infinity): K[] {
    const t = this.now();
    const out: K[] = [];
    let taken = 0;
    for (; taken < this.late.length && out.length < max; taken++) if (this.isDue(this.late[taken]!)) out.push(this.late[taken]!.key);
    this.late = this.late.slice(taken);
    for (let e = this.nextDue(t); e && out.length < max; e = this.nextDue(t)) {
      out.push(e.key);
      this.loadedHead++;
    }
    return out;
  }

  /**
   * The oldest load that is due at `t`, left at the head of `loaded`; the
   * loads before it that reached their refresh age unused become idle (their
   * next lookup makes them due) and leave the list, as do those no longer held.
   */
  private nextDue(t: number): Loaded<K, V> | undefined {
    let due: Loaded<K, V> | undefined;
    for (; this.loadedHead < this.loaded.length; this.loadedHead++) {
      const e = this.loaded[this.loadedHead]!;
      if (e.held.refreshAt > t) break;
      if (this.isDue(e)) {
        due = e;
        break;
      }
      e.held.idle = true;
    }
    if (this.loadedHead > 1_024 && this.loadedHead * 2 > this.loaded.length) {
      this.loaded = this.loaded.slice(this.loadedHead);
      this.loadedHead = 0;
    }
    return due;
  }

  /** Still the held value of its key (not reloaded, dropped or expired), and looked up since it was loaded. */
  private isDue(e: Loaded<K, V>): boolean {
    return e.held.used && this.held.get(e.key) === e.held && e.held.expiresAt > this.now();
  }

  /** Drops `key` from process memory (call on a local write to the key). */
  invalidate(key: K): void {
    this.held.delete(key);
  }

  /** Drops every held value (the process may have missed changes); what is hot stays counted. */
  clear(): void {
    this.held.clear();
  }

  /** True when `key` is held in process right now. */
  holds(key: K): boolean {
    return this.fresh(key, false) !== undefined;
  }

  /** Keys held in process. */
  get size(): number {
    return this.held.size;
  }

  /** The held value of `key` while its TTL runs; `use`: a lookup (makes it due for a reload at its refresh age). */
  private fresh(key: K, use = true): V | undefined {
    const h = this.held.get(key);
    if (h === undefined) return undefined;
    const t = this.now();
    if (h.expiresAt > t) {
      if (use && !h.used) {
        h.used = true;
        // passed its refresh age unused: due from now (bounded like `loaded`)
        if (h.idle && this.late.length < this.maxEntries) this.late.push({ key, held: h, since: t });
      }
      return h.value;
    }
    this.held.delete(key);
    return undefined;
  }

  /** The hot keys of the window with their hit counts, hottest first. */
  hotKeys(): Array<[K, number]> {
    return this.tracker.top();
  }
}
