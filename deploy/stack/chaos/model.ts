/**
 * The acknowledged-state model: what every follow/unfollow pair must be once
 * the system has converged, from the answers the clients got.
 *
 * A pair (A, B) is written only by A (a follow is always the caller's own), and
 * each user's writes are sequential, so the writes of a pair are totally
 * ordered. Every pair starts "not following" (the users are new). Per pair the
 * model keeps the set of states it may be in:
 * - an acknowledged write (2xx) makes it exactly the write's target;
 * - a refused write (4xx: nothing was decided) leaves it as it was;
 * - any other outcome (5xx, timeout, connection error) may or may not have
 *   happened, so it adds the write's target to the possible states.
 * A pair with one possible state is exact: that state must be in effect.
 *
 * An acknowledged write also says whether it changed anything; when the pair
 * was exact before it, `changed` must equal "the state differed from the
 * target". A mismatch is a stale answer: the service decided on a state older
 * than one it had acknowledged.
 */
export type WriteOp = "follow" | "unfollow";
export type Outcome = "ack" | "refused" | "unknown";

export interface StaleAnswer {
  readonly from: number;
  readonly to: number;
  readonly op: WriteOp;
  readonly changed: boolean;
  /** The exact state before the write, as acknowledged earlier. */
  readonly before: boolean;
  readonly at: number;
}

interface Pair {
  /** Possible states: true = following. */
  following: boolean;
  notFollowing: boolean;
  /** The last write whose outcome was not known, to settle it. */
  lastUnknown?: WriteOp;
}

const key = (from: number, to: number) => `${from}>${to}`;

export class AckModel {
  private readonly pairs = new Map<string, Pair>();
  readonly stale: StaleAnswer[] = [];

  private pair(from: number, to: number): Pair {
    let p = this.pairs.get(key(from, to));
    if (!p) {
      p = { following: false, notFollowing: true };
      this.pairs.set(key(from, to), p);
    }
    return p;
  }

  /** Records the outcome of one write; returns the stale answer it revealed, if any. */
  record(from: number, to: number, op: WriteOp, outcome: Outcome, changed?: boolean, at = Date.now()): StaleAnswer | undefined {
    const p = this.pair(from, to);
    const target = op === "follow";
    if (outcome === "refused") return undefined;
    if (outcome === "unknown") {
      if (target) p.following = true;
      else p.notFollowing = true;
      p.lastUnknown = op;
      return undefined;
    }
    let stale: StaleAnswer | undefined;
    const before = this.exact(p);
    if (before !== undefined && changed !== undefined && changed !== (before !== target)) {
      stale = { from, to, op, changed, before, at };
      this.stale.push(stale);
    }
    p.following = target;
    p.notFollowing = !target;
    p.lastUnknown = undefined;
    return stale;
  }

  private exact(p: Pair): boolean | undefined {
    if (p.following && !p.notFollowing) return true;
    if (!p.following && p.notFollowing) return false;
    return undefined;
  }

  /** The state a pair must be in: true/false, or undefined when either is possible. */
  expected(from: number, to: number): boolean | undefined {
    const p = this.pairs.get(key(from, to));
    return p ? this.exact(p) : false;
  }

  /** What the model believes now (for choosing the next write): the exact state, else the last write's target. */
  believed(from: number, to: number): boolean {
    const p = this.pairs.get(key(from, to));
    if (!p) return false;
    return this.exact(p) ?? p.lastUnknown === "follow";
  }

  /** Pairs whose state is not exact, with the last write of unknown outcome (re-issuing it until acknowledged settles them). */
  unsettled(): Array<{ from: number; to: number; op: WriteOp }> {
    const out: Array<{ from: number; to: number; op: WriteOp }> = [];
    for (const [k, p] of this.pairs) {
      if (this.exact(p) !== undefined || !p.lastUnknown) continue;
      const [from, to] = k.split(">").map(Number) as [number, number];
      out.push({ from, to, op: p.lastUnknown });
    }
    return out;
  }

  /** Exact expected follows of `from` among `candidates`, and the candidates whose state is open. */
  expectedFollowing(from: number, candidates: readonly number[]): { following: Set<number>; open: Set<number> } {
    const following = new Set<number>();
    const open = new Set<number>();
    for (const to of candidates) {
      const e = this.expected(from, to);
      if (e === undefined) open.add(to);
      else if (e) following.add(to);
    }
    return { following, open };
  }
}
