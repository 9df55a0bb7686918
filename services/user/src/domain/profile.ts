import type { CountChangedRecord } from "@rs/idl";

/** A user's public profile, as the user service answers it. */
export interface Profile {
  readonly id: number;
  readonly name: string;
  readonly avatar: string;
  readonly backgroundImage: string;
  readonly signature: string;
  /** Redundant copy of the user's following count (from count.changed). */
  readonly followCount: number;
  /** Redundant copy of the user's follower count (from count.changed). */
  readonly followerCount: number;
}

/**
 * A profile with the revision of its row: the row's change counter, which
 * orders cache writes so an older read never replaces a newer one.
 */
export interface StoredProfile {
  readonly profile: Profile;
  readonly revision: number;
}

/** The counters a count.changed event can carry (the wire contract's, @rs/idl). */
export { COUNT_NAMES, isCountName, type CountName } from "@rs/idl";

/** One count.changed event: an absolute value and the version it was computed at. */
export type CountChange = CountChangedRecord;
