/**
 * The two sides an edge transition is written to: the `follows` rows (keyed by
 * the follower) with `following_counts`, and the `fans` rows (keyed by the
 * followee) with `follower_counts`. A side names its tables and columns for
 * the repositories and says whose row and whose count an event moves for the
 * decisions (edge-fold.ts, count-arithmetic.ts).
 */
import type { CountName } from "./count-arithmetic.js";

/** The two ends of an edge (a transition, an edge event). */
export interface EdgeEnds {
  readonly from: number;
  readonly to: number;
}

export interface EdgeSide {
  readonly table: "follows" | "fans";
  readonly ownerColumn: "from_user_id" | "to_user_id";
  readonly otherColumn: "from_user_id" | "to_user_id";
  readonly countTable: "following_counts" | "follower_counts";
  readonly countColumn: "following_count" | "follower_count";
  readonly countName: CountName;
  /** The user whose row (and count) the event moves on this side. */
  owner(e: EdgeEnds): number;
  /** The other end of the edge. */
  other(e: EdgeEnds): number;
}

export const FOLLOWS_SIDE: EdgeSide = {
  table: "follows",
  ownerColumn: "from_user_id",
  otherColumn: "to_user_id",
  countTable: "following_counts",
  countColumn: "following_count",
  countName: "following",
  owner: (e) => e.from,
  other: (e) => e.to,
};

export const FANS_SIDE: EdgeSide = {
  table: "fans",
  ownerColumn: "to_user_id",
  otherColumn: "from_user_id",
  countTable: "follower_counts",
  countColumn: "follower_count",
  countName: "follower",
  owner: (e) => e.to,
  other: (e) => e.from,
};

/** The key of one edge row of a side: `owner:other`. */
export const edgeKey = (owner: number, other: number): string => `${owner}:${other}`;
