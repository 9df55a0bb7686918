/**
 * Keeps the users' redundant counters (follow_count, follower_count) from
 * count.changed: absolute values with versions, so applying is idempotent and
 * order-insensitive.
 */
import type { ProfileCache, UserStore } from "./ports.js";
import type { CountChange } from "./profile.js";
import { checkUserId } from "./user-input.js";

export interface CountChangeServiceDeps {
  readonly store: UserStore;
  readonly cache: ProfileCache;
  readonly now?: () => number;
}

export class CountChangesService {
  private readonly now: () => number;

  constructor(private readonly deps: CountChangeServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Sets the counter if `version` is newer than the row's, then invalidates the
   * cached profile (so the next read loads the new value). A replay of the same
   * version changes nothing but repeats the invalidation, in case the first one
   * failed; an older version changes nothing. Throws if a store fails, so a
   * consumer redelivers.
   */
  async applyCountChanged(change: CountChange): Promise<{ applied: boolean }> {
    checkUserId(change.userId);
    const result = await this.deps.store.applyCount(change, this.now());
    if (result.revision !== undefined) await this.deps.cache.invalidate(change.userId, result.revision);
    return { applied: result.applied };
  }
}
