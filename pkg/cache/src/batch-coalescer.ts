/**
 * Coalesces the batched lookups asked for within one turn of the event loop
 * into one load (the DataLoader idea, for callers that already ask in
 * batches). Under load many calls reach their lookup in the same turn (their
 * Redis replies arrive in one read), and a remote batch call costs mostly per
 * call, not per key: 5 pages of 20 profiles cost about one call, not 5.
 *
 * Not the `dataloader` package: it resolves one promise per key, where callers
 * here ask for a page of keys at once, and it cannot choose in which caller's
 * context the shared load runs. A shared load runs in the context of the caller
 * whose deadline is earliest (its AsyncLocalStorage values: the call deadline
 * and trace), so no caller waits past its own deadline; the others' traces do
 * not show the load.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface BatchCoalescerOptions {
  /** Distinct keys per load at most (the remote call's batch limit). A caller asking for more gets a load of its own. */
  readonly maxKeys: number;
  /** The current caller's deadline (epoch ms), undefined when it has none. */
  readonly deadlineOf?: () => number | undefined;
}

interface Waiter<K, V> {
  readonly resolve: (found: ReadonlyMap<K, V>) => void;
  readonly reject: (err: unknown) => void;
}

/** The caller a load runs for: the earliest deadline so far, and that caller's async context. */
interface Earliest {
  readonly deadline: number;
  readonly runInContext: <R>(fn: () => R) => R;
}

export class BatchCoalescer<K, V> {
  private waiting: Waiter<K, V>[] = [];
  private keys = new Set<K>();
  private earliest: Earliest | undefined;
  private scheduled = false;

  constructor(
    private readonly load: (keys: K[]) => Promise<ReadonlyMap<K, V>>,
    private readonly options: BatchCoalescerOptions,
  ) {}

  /**
   * The values of `keys` that `load` found (the map may hold other callers'
   * keys too; a key not found is absent). Loaded together with the other
   * callers of this turn, after the turn's I/O callbacks ran.
   */
  get(keys: readonly K[]): Promise<ReadonlyMap<K, V>> {
    if (keys.length === 0) return Promise.resolve(new Map());
    let fresh = 0;
    for (const k of keys) if (!this.keys.has(k)) fresh++;
    if (this.keys.size + fresh > this.options.maxKeys && this.waiting.length > 0) this.flush();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      // Only a caller that is due before every other so far needs its context kept.
      const deadline = this.options.deadlineOf?.() ?? Infinity;
      if (this.earliest === undefined || deadline < this.earliest.deadline) this.earliest = { deadline, runInContext: AsyncLocalStorage.snapshot() };
      for (const k of keys) this.keys.add(k);
      if (this.keys.size >= this.options.maxKeys) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          if (this.waiting.length > 0) this.flush();
        });
      }
    });
  }

  private flush(): void {
    const waiting = this.waiting;
    const keys = [...this.keys];
    const earliest = this.earliest!;
    this.waiting = [];
    this.keys = new Set();
    this.earliest = undefined;
    let loading: Promise<ReadonlyMap<K, V>>;
    try {
      loading = earliest.runInContext(() => this.load(keys));
    } catch (err) {
      loading = Promise.reject(err); // a load that throws before returning its promise fails its callers, not the process
    }
    loading.then(
      (found) => {
        for (const w of waiting) w.resolve(found);
      },
      (err: unknown) => {
        for (const w of waiting) w.reject(err);
      },
    );
  }
}
