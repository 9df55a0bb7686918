/**
 * The relation lists, newest first with an opaque keyset cursor (docs/design.md §6):
 * following (from following:{A}), fans (fans:{B} window, then the fans shard),
 * friends (A's follows ∩ A's fans) and common following (the viewer's follows
 * who follow a target). Each page is hydrated with one profile lookup (at most
 * one BatchGetUsers, shared with the pages hydrated at the same moment: ADR 22)
 * and ONE batch is-following of the viewer, in parallel; a following page
 * learns the viewer's follows in its own read where the store can (one Redis).
 */
import type { CursorPosition } from "./cursor.js";
import type { FansWindow, ListPage } from "./fans-window.js";
import { followsBack, newestFirst } from "./follow-back.js";
import type { FollowingLoader } from "./following-loader.js";
import { pageNewestFirst } from "./keyset-page.js";
import type { FollowingReads, RelationStore, UserDirectory, UserProfile } from "./ports.js";
import type { PendingEntry } from "./relation-transition.js";
import type { RelationQueries } from "./relation-queries.js";
import { profileOf } from "./user-profile.js";

/** One listed user: the profile, whether the viewer follows them, and when the listed edge began. */
export interface ListedUser extends UserProfile {
  readonly isFollow: boolean;
  readonly followedAtMs: number;
}

/** A page of listed users. */
export interface UserListPage {
  readonly users: ListedUser[];
  readonly next: CursorPosition | undefined;
  readonly total: number;
}

/** Which page to read: after `cursor` (undefined = first page), `limit` items, is_follow from `viewer` (0 = none). */
export interface PageRequest {
  readonly cursor: CursorPosition | undefined;
  readonly limit: number;
  readonly viewer: number;
}

const NO_PROFILE = { name: "", avatar: "", backgroundImage: "", signature: "", followCount: 0, followerCount: 0 } as const;

export interface RelationListsDeps {
  readonly cache: FollowingReads;
  readonly loader: FollowingLoader;
  readonly fansWindow: FansWindow;
  readonly queries: RelationQueries;
  readonly store: RelationStore;
  readonly users: UserDirectory;
}

export class RelationLists {
  constructor(private readonly d: RelationListsDeps) {}

  /** The users `a` follows. */
  async following(a: number, req: PageRequest): Promise<UserListPage> {
    // a user's own following list: every item is followed by the viewer, no lookup needed
    if (req.viewer === 0 || req.viewer === a) {
      const page = await this.d.loader.withLoaded(a, () => this.d.cache.followingPage(a, req.cursor, req.limit));
      return this.hydrate(page, req.viewer, req.viewer === a);
    }
    // another viewer: the page and the viewer's follows of it in one read where the store can
    const page = await this.d.loader.withLoaded(a, () => this.d.cache.followingPageFor(a, req.viewer, req.cursor, req.limit));
    return this.hydrate(page, req.viewer, false, page.viewerFollows);
  }

  /** The users who follow `b`. */
  async fans(b: number, req: PageRequest): Promise<UserListPage> {
    return this.hydrate(await this.d.fansWindow.page(b, req.cursor, req.limit), req.viewer, false);
  }

  /** Mutual follows of `a`, ordered by when `a` followed them. */
  async friends(a: number, req: PageRequest): Promise<UserListPage> {
    const all = await this.allFriends(a);
    const page = pageNewestFirst(all, req.cursor, req.limit);
    return this.hydrate({ ...page, total: all.length }, req.viewer, req.viewer === a);
  }

  /** The users `viewer` follows who follow `target`, ordered by when the viewer followed them. */
  async commonFollowing(viewer: number, target: number, cursor: CursorPosition | undefined, limit: number): Promise<UserListPage> {
    const mine = await this.d.loader.withLoaded(viewer, () => this.d.cache.allFollowing(viewer));
    const { found, unresolved } = await this.d.cache.followsTarget(target, mine.items);
    const all = newestFirst(found, await this.resolveFollowBacks(target, unresolved));
    const page = pageNewestFirst(all, cursor, limit);
    return this.hydrate({ ...page, total: all.length }, viewer, true);
  }

  private async allFriends(a: number): Promise<CursorPosition[]> {
    let r = await this.d.loader.withLoaded(a, () => this.d.cache.friends(a));
    if (r.fansWindow === "cold") {
      // With fans:{A} loaded most follow-backs are decided in the first script.
      await this.d.fansWindow.ensure(a);
      r = await this.d.loader.withLoaded(a, () => this.d.cache.friends(a));
    }
    return newestFirst(r.friends, await this.resolveFollowBacks(a, r.unresolved));
  }

  /** For candidates whose following:{B} is cold: T's fans rows, with each B's pending entry laid over. */
  private async resolveFollowBacks<T extends CursorPosition>(
    target: number,
    unresolved: readonly (T & { readonly pending: PendingEntry | undefined })[],
  ): Promise<T[]> {
    if (unresolved.length === 0) return [];
    const edges = await this.d.store.fanEdges(
      target,
      unresolved.map((u) => u.id),
    );
    return unresolved.filter((u) => followsBack(edges.get(u.id), u.pending));
  }

  /** `known`: which items the viewer follows, when the page's read already told. */
  private async hydrate(page: ListPage, viewer: number, viewerFollowsAll: boolean, known?: readonly boolean[]): Promise<UserListPage> {
    const ids = page.items.map((i) => i.id);
    const [profiles, follows] = await Promise.all([
      this.d.users.profiles(ids),
      known ?? (viewer === 0 || viewerFollowsAll ? undefined : this.d.queries.batchIsFollowing(viewer, ids)),
    ]);
    // Exactly the fields of a listed user, built once: the reply encodes these objects as they are.
    const users = page.items.map((item, i): ListedUser => {
      const p = profiles.get(item.id) ?? { id: item.id, ...NO_PROFILE };
      return { ...profileOf(p), isFollow: viewerFollowsAll || (follows?.[i] ?? false), followedAtMs: item.timeMs };
    });
    return { users, next: page.next, total: page.total };
  }
}
