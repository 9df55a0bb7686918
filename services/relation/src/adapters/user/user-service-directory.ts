/**
 * The user service seen from the relation service: existence checks (UserExists,
 * which has the user service's Bloom filter in front) and profile hydration
 * (one BatchGetUsers per page). Users are never deleted, so an id once known to
 * exist is remembered in process for a while: most follows then cost no call.
 * Unknown ids are not remembered here (a user may register a moment later); the
 * user service's Bloom filter makes asking about them cheap.
 */
import { status } from "@grpc/grpc-js";
import { LRUCache } from "lru-cache";
import { isStatusError, unavailable } from "@rs/errors";
import type { ServiceClient } from "@rs/grpc";
import type { userV1 } from "@rs/idl";
import type { UserDirectory, UserProfile } from "../../domain/ports.js";
import { profileOf } from "../../domain/user-profile.js";

export interface UserDirectoryOptions {
  /** Ids known to exist kept in process. */
  readonly existsCacheSize: number;
  /** How long such an id is trusted. */
  readonly existsCacheTtlMs: number;
}

/**
 * The user service not answering within this service's deadline for it is an
 * outage of a dependency: UNAVAILABLE to our caller (its own deadline has not
 * passed), not a timeout of its call.
 */
async function answered<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (isStatusError(err) && err.code === status.DEADLINE_EXCEEDED) throw unavailable("the user service did not answer in time; retry");
    throw err;
  }
}

export class UserServiceDirectory implements UserDirectory {
  private readonly known: LRUCache<number, true>;

  constructor(
    private readonly client: ServiceClient<userV1.UserServiceClient>,
    opts: UserDirectoryOptions,
  ) {
    this.known = new LRUCache<number, true>({ max: opts.existsCacheSize, ttl: opts.existsCacheTtlMs });
  }

  async exists(id: number): Promise<boolean> {
    if (this.known.get(id)) return true;
    const { exists } = await answered(this.client.userExists({ userId: id }));
    if (exists) this.known.set(id, true);
    return exists;
  }

  async profiles(ids: readonly number[]): Promise<Map<number, UserProfile>> {
    const out = new Map<number, UserProfile>();
    if (ids.length === 0) return out;
    const { users } = await answered(this.client.batchGetUsers({ userIds: [...ids] }));
    for (const u of users) {
      this.known.set(u.id, true);
      out.set(u.id, profileOf(u));
    }
    return out;
  }
}
