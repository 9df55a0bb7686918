/**
 * What the relation use cases need from the outside, beside the Redis core
 * (adapters/redis): the shards (read side), the user service and the event bus.
 * Adapters implement these; tests of the use cases may stand in for them.
 */
import type { FanRow } from "../adapters/redis/fans-cache.js";
import type { FollowingSnapshot } from "../adapters/redis/relation-cache.js";
import type { CursorPosition } from "./cursor.js";
import type { RelationTransition } from "./relation-transition.js";

/** A `fans` row of (to = B, from = fan), active or not, with its version. */
export interface FanEdge {
  readonly active: boolean;
  readonly version: number;
}

/** Reads of the sharded edge tables. */
export interface RelationStore {
  /** A's active `follows` rows and the highest version of any of A's rows. */
  followingSnapshot(a: number): Promise<FollowingSnapshot>;
  /** B's newest `count` active fans (for the fans:{B} window). */
  newestFans(b: number, count: number): Promise<FanRow[]>;
  /** B's active fans strictly after `cursor`, newest first (id = the fan). */
  fansAfter(b: number, cursor: CursorPosition | undefined, limit: number): Promise<CursorPosition[]>;
  /** B's persisted follower count. */
  followerCount(b: number): Promise<number>;
  /** The `fans` rows of B for the given fans (absent = never followed). */
  fanEdges(b: number, fans: readonly number[]): Promise<Map<number, FanEdge>>;
}

/** A user's public profile as the user service returns it. */
export interface UserProfile {
  readonly id: number;
  readonly name: string;
  readonly avatar: string;
  readonly backgroundImage: string;
  readonly signature: string;
  readonly followCount: number;
  readonly followerCount: number;
}

/** The user service, as the relation service uses it. */
export interface UserDirectory {
  /** Whether a user with this id exists. */
  exists(id: number): Promise<boolean>;
  /** Profiles of up to 100 users in ONE call; unknown ids are absent from the map. */
  profiles(ids: readonly number[]): Promise<Map<number, UserProfile>>;
}

/** The event bus: publishes transitions, resolving only once the broker acknowledged all of them. */
export interface TransitionPublisher {
  publish(transitions: readonly RelationTransition[]): Promise<void>;
}
