/**
 * The request limits of the gRPC contracts, declared once: servers refuse
 * what exceeds them (INVALID_ARGUMENT), the gateway validates its routes and
 * sizes its calls with them. The .proto files state them in comments for
 * readers; `idl/test/limits.test.ts` checks those comments say these values.
 */

/** user.v1 BatchGetUsers: most ids per call. */
export const BATCH_GET_USERS_MAX = 100;
/** count.v1 BatchGetCounts / BatchGetCounters: most users (keys) per call. */
export const BATCH_GET_COUNTS_MAX = 100;
/** relation.v1 BatchIsFollowing: most targets per call. */
export const BATCH_IS_FOLLOWING_MAX = 1_000;
/** relation.v1 List*: the `limit` (page size) range. */
export const LIST_LIMIT_MIN = 1;
export const LIST_LIMIT_MAX = 100;
