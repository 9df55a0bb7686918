/**
 * How a profile cache entry is written in Redis. One string per user:
 *
 *   P<revision>|<json [name, avatar, backgroundImage, signature, followCount, followerCount]>   a profile
 *   I<revision>                                                                              invalidated at that revision
 *   M                                                                                        no such user
 *
 * The revision leads, so the put script can compare it without decoding JSON.
 * An array, not an object, keeps the hot path's parse short.
 */
import type { CachedProfile } from "../../domain/ports.js";
import type { StoredProfile } from "../../domain/profile.js";

export const PROFILE_TAG = "P";
export const INVALIDATED_TAG = "I";
export const MISSING_TAG = "M";
const SEPARATOR = "|";

type Fields = [name: string, avatar: string, backgroundImage: string, signature: string, followCount: number, followerCount: number];

export function encodeProfile(stored: StoredProfile): string {
  const p = stored.profile;
  const fields: Fields = [p.name, p.avatar, p.backgroundImage, p.signature, p.followCount, p.followerCount];
  return `${PROFILE_TAG}${stored.revision}${SEPARATOR}${JSON.stringify(fields)}`;
}

export const encodeInvalidated = (revision: number): string => `${INVALIDATED_TAG}${revision}`;

/**
 * The cached answer an entry holds for `id`; undefined for an invalidation mark
 * (a miss: read the shard) and for anything unreadable (treated as a miss too,
 * and overwritten by the next load).
 */
export function decodeEntry(id: number, raw: string | null): CachedProfile | undefined {
  if (raw === null) return undefined;
  if (raw === MISSING_TAG) return { kind: "missing" };
  if (!raw.startsWith(PROFILE_TAG)) return undefined;
  const sep = raw.indexOf(SEPARATOR);
  if (sep < 0) return undefined;
  const revision = Number(raw.slice(PROFILE_TAG.length, sep));
  let fields: unknown;
  try {
    fields = JSON.parse(raw.slice(sep + 1));
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(revision) || !Array.isArray(fields) || fields.length !== 6) return undefined;
  const [name, avatar, backgroundImage, signature, followCount, followerCount] = fields as Fields;
  return { kind: "profile", stored: { revision, profile: { id, name, avatar, backgroundImage, signature, followCount, followerCount } } };
}
