/**
 * What the use cases need from the stores. The adapters (MySQL shards, Redis)
 * implement these; the use cases never see SQL or Redis commands.
 */
import type { CountChange, StoredProfile } from "./profile.js";

/** A new account's row. */
export interface NewUser {
  readonly id: number;
  readonly username: string;
  readonly passwordHash: string;
  readonly nowMs: number;
}

/** What a login needs: the account a confirmed username points to. */
export interface LoginRecord {
  readonly userId: number;
  readonly passwordHash: string;
}

/** Outcome of applying a count change to the user's row. */
export interface CountApplyResult {
  /** True when the row took the value (its version was newer). */
  readonly applied: boolean;
  /**
   * The row's revision to invalidate the cache at: after the change, or the
   * current one when this exact version was applied before (a redelivery whose
   * first invalidation may have failed). Absent when there is nothing to do.
   */
  readonly revision?: number;
}

/** The accounts and username index in the shards. */
export interface UserStore {
  /** Claims `username` for `userId` (pending). False when the name already has a claim. */
  claimUsername(username: string, userId: number, nowMs: number): Promise<boolean>;
  /** Deletes a pending claim of `username` made before `claimedBeforeMs` (an abandoned register). True if one was deleted. */
  takeOverAbandonedClaim(username: string, claimedBeforeMs: number): Promise<boolean>;
  /** Confirms `userId`'s pending claim. False when it is no longer there (taken over). */
  confirmClaim(username: string, userId: number): Promise<boolean>;
  /** Deletes `userId`'s pending claim of `username`, if still pending. */
  releaseClaim(username: string, userId: number): Promise<void>;
  insertUser(user: NewUser): Promise<void>;
  deleteUser(userId: number): Promise<void>;
  /** The account of a confirmed username, or undefined (no such name, unconfirmed, or no row). */
  findLogin(username: string): Promise<LoginRecord | undefined>;
  updatePasswordHash(userId: number, passwordHash: string, nowMs: number): Promise<void>;
  /** The profiles of those ids that exist, one query per shard. */
  getProfiles(ids: readonly number[]): Promise<Map<number, StoredProfile>>;
  applyCount(change: CountChange, nowMs: number): Promise<CountApplyResult>;
  /** Every user id, shard by shard, in pages (for seeding the bloom filter). */
  scanUserIds(onPage: (ids: number[]) => Promise<void>): Promise<void>;
}

/** A cached answer for one id: its profile, or "no such user". Absent = not cached. */
export type CachedProfile = { readonly kind: "profile"; readonly stored: StoredProfile } | { readonly kind: "missing" };

/** How a read may be answered. */
export interface ProfileReadOptions {
  /** Not from the process's own short-lived copies (the caller keeps the profiles itself): the shared cache or the shards. */
  readonly skipProcessCache?: boolean;
}

/** The profile cache (Redis, with the hot profiles of the process in front). */
export interface ProfileCache {
  /** Cached answers for `ids`, in one round trip; ids not cached are absent from the map. */
  getMany(ids: readonly number[], options?: ProfileReadOptions): Promise<Map<number, CachedProfile>>;
  /** Stores loaded profiles (unless a newer revision is cached) and "no such user" for `missing` (unless anything is cached). */
  fill(found: readonly StoredProfile[], missing: readonly number[]): Promise<void>;
  /** Drops the cached profile of `userId`, so a read older than `revision` cannot put it back. */
  invalidate(userId: number, revision: number): Promise<void>;
}

/** The existence filter of user ids (a bloom filter). */
export interface ExistenceFilter {
  /**
   * Per id: false = certainly no such user; true = probably one. Undefined when
   * the filter cannot be trusted now (not seeded yet, lost with Redis, Redis down):
   * ask the store instead.
   */
  mightExist(ids: readonly number[]): Promise<boolean[] | undefined>;
  /** Records a user id; must happen before the user's row can be read. */
  add(userId: number): Promise<void>;
}

/** Mints user ids. Throws when it cannot do so safely (worker id lease lost). */
export interface IdSource {
  next(): number;
}
