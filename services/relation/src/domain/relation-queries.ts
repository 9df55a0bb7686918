/**
 * Is-following checks (docs/design.md §6): read following:{A}, loading it on a miss.
 * A batch of up to 1000 targets is one ZMSCORE, one round trip.
 */
import type { FollowingLoader } from "./following-loader.js";
import type { FollowingReads } from "./ports.js";

/** Both directions between two users. */
export interface MutualState {
  readonly aFollowsB: boolean;
  readonly bFollowsA: boolean;
  readonly mutual: boolean;
}

export class RelationQueries {
  constructor(
    private readonly cache: FollowingReads,
    private readonly loader: FollowingLoader,
  ) {}

  /** Does A follow B? */
  async isFollowing(a: number, b: number): Promise<boolean> {
    const r = await this.loader.withLoaded(a, () => this.cache.isFollowing(a, b));
    return r.following;
  }

  /** Which of `targets` A follows, in their order. */
  async batchIsFollowing(a: number, targets: readonly number[]): Promise<boolean[]> {
    if (targets.length === 0) return [];
    const r = await this.loader.withLoaded(a, () => this.cache.batchIsFollowing(a, targets));
    return r.following;
  }

  /** Two is-following checks, in parallel. */
  async isMutual(a: number, b: number): Promise<MutualState> {
    const [aFollowsB, bFollowsA] = await Promise.all([this.isFollowing(a, b), this.isFollowing(b, a)]);
    return { aFollowsB, bFollowsA, mutual: aFollowsB && bFollowsA };
  }
}
