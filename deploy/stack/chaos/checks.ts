/**
 * The convergence check, pure: given what every store answers (observe.ts)
 * and the acknowledged-state model, what is lost and what diverges.
 *
 * - lost: a pair whose acknowledged state (exact in the model) is not what
 *   the `follows` rows, the relation service's following list or the cached
 *   following:{A} (when cached) say.
 * - divergent: the stores disagree with each other: `follows` is not the
 *   inverse of `fans`; a pair whose state is open (last write of unknown
 *   outcome) is not the same everywhere; the service's fans list or the cached
 *   fans:{B} differ from the `fans` rows; a count (the shard count tables, the
 *   count service, the users' profile counters, the lists' totals) differs from
 *   the cardinality, or is negative; a store that cannot be read.
 */
import type { AckModel } from "./model.js";

export type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };
export const ok = <T>(value: T): Read<T> => ({ ok: true, value });
export const failed = <T>(error: string): Read<T> => ({ ok: false, error });

export interface ShardRows {
  /** follower → followees with status 1 */
  readonly follows: ReadonlyMap<number, ReadonlySet<number>>;
  /** followee → followers with status 1 */
  readonly fans: ReadonlyMap<number, ReadonlySet<number>>;
  readonly followingCounts: ReadonlyMap<number, number>;
  readonly followerCounts: ReadonlyMap<number, number>;
}

export interface CachedLists {
  /** following:{A} members (sentinel removed); absent when not cached */
  readonly following: ReadonlyMap<number, ReadonlySet<number>>;
  readonly fans: ReadonlyMap<number, ReadonlySet<number>>;
}

export interface ListAnswer {
  readonly ids: ReadonlySet<number>;
  readonly total: number;
}

export interface Counts {
  readonly following: number;
  readonly follower: number;
}

/** What the services answer for one user (through the gateway). */
export interface ServiceView {
  readonly following: Read<ListAnswer>;
  readonly fans: Read<ListAnswer>;
  readonly counts: Read<Counts>;
  readonly profile: Read<Counts>;
}

export interface Observation {
  readonly shards: Read<ShardRows>;
  readonly cache: Read<CachedLists>;
  readonly services: ReadonlyMap<number, ServiceView>;
}

export interface Finding {
  readonly kind: string;
  readonly user: number;
  readonly detail: string;
}

export interface Verdict {
  readonly lost: Finding[];
  readonly divergent: Finding[];
}

const EMPTY: ReadonlySet<number> = new Set();
const fmt = (s: ReadonlySet<number>) => `[${[...s].sort((a, b) => a - b).join(",")}]`;
const state = (b: boolean) => (b ? "following" : "not following");

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Only edges among the harness's users count (the instance holds nobody else, but be exact). */
function restrict(s: ReadonlySet<number> | undefined, users: ReadonlySet<number>): Set<number> {
  return new Set([...(s ?? EMPTY)].filter((x) => users.has(x)));
}

export function evaluate(model: AckModel, users: readonly number[], obs: Observation): Verdict {
  const lost: Finding[] = [];
  const divergent: Finding[] = [];
  const all = new Set(users);
  const diverge = (kind: string, user: number, detail: string) => divergent.push({ kind, user, detail });

  const shards = obs.shards.ok ? obs.shards.value : undefined;
  const cache = obs.cache.ok ? obs.cache.value : undefined;
  if (!obs.shards.ok) diverge("unreadable", 0, `shards: ${obs.shards.error}`);
  if (!obs.cache.ok) diverge("unreadable", 0, `redis: ${obs.cache.error}`);

  for (const a of users) {
    const view = obs.services.get(a);
    const rows = shards ? restrict(shards.follows.get(a), all) : undefined;
    const cached = cache?.following.get(a);
    const listed = view?.following.ok ? view.following.value.ids : undefined;
    if (view && !view.following.ok) diverge("unreadable", a, `following list: ${view.following.error}`);

    for (const b of users) {
      if (b === a) continue;
      const want = model.expected(a, b);
      const seen: Array<[string, boolean]> = [];
      if (rows) seen.push(["follows rows", rows.has(b)]);
      if (listed) seen.push(["relation list", listed.has(b)]);
      if (cached) seen.push(["following:{A}", cached.has(b)]);
      if (want !== undefined) {
        const wrong = seen.filter(([, v]) => v !== want);
        if (wrong.length > 0) {
          lost.push({ kind: "lost", user: a, detail: `${a}->${b} acknowledged ${state(want)}; ${wrong.map(([w, v]) => `${w}: ${state(v)}`).join(", ")}` });
        }
      } else if (new Set(seen.map(([, v]) => v)).size > 1) {
        diverge("open pair", a, `${a}->${b} (last write unacknowledged) differs: ${seen.map(([w, v]) => `${w}: ${state(v)}`).join(", ")}`);
      }
    }

    if (shards) {
      // follows == inverse of fans, from a's side
      for (const b of rows ?? EMPTY) {
        if (!shards.fans.get(b)?.has(a)) diverge("follows/fans", a, `follows has ${a}->${b}, fans of ${b} does not`);
      }
      const fansRows = restrict(shards.fans.get(a), all);
      for (const f of fansRows) {
        if (!shards.follows.get(f)?.has(a)) diverge("follows/fans", a, `fans of ${a} has ${f}, follows of ${f} does not`);
      }
      const followingCard = rows!.size;
      const followerCard = fansRows.size;
      const countChecks: Array<[string, Read<Counts> | undefined]> = [
        ["shard counts", ok({ following: shards.followingCounts.get(a) ?? 0, follower: shards.followerCounts.get(a) ?? 0 })],
        ["count service", view?.counts],
        ["profile", view?.profile],
      ];
      for (const [where, c] of countChecks) {
        if (!c) continue;
        if (!c.ok) {
          diverge("unreadable", a, `${where}: ${c.error}`);
          continue;
        }
        if (c.value.following < 0 || c.value.follower < 0)
          diverge("negative count", a, `${where}: following ${c.value.following}, followers ${c.value.follower}`);
        if (c.value.following !== followingCard || c.value.follower !== followerCard) {
          diverge("count", a, `${where}: following ${c.value.following}, followers ${c.value.follower}; rows: ${followingCard}, ${followerCard}`);
        }
      }
      if (listed && view?.following.ok && view.following.value.total !== followingCard) {
        diverge("count", a, `following list total ${view.following.value.total}, rows ${followingCard}`);
      }
      if (view && !view.fans.ok) diverge("unreadable", a, `fans list: ${view.fans.error}`);
      if (view?.fans.ok) {
        if (!sameSet(restrict(view.fans.value.ids, all), fansRows))
          diverge("fans list", a, `relation fans ${fmt(view.fans.value.ids)}, fans rows ${fmt(fansRows)}`);
        if (view.fans.value.total !== followerCard) diverge("count", a, `fans list total ${view.fans.value.total}, rows ${followerCard}`);
      }
      const cachedFans = cache?.fans.get(a);
      if (cachedFans && !sameSet(restrict(cachedFans, all), fansRows)) diverge("fans:{B}", a, `cached ${fmt(cachedFans)}, fans rows ${fmt(fansRows)}`);
    }
  }
  return { lost, divergent };
}
