/** Redis adapter of the relation service: the write front, the fans window and the outbox. */
export {
  RelationCache,
  CacheLoadContendedError,
  DEFAULT_LOAD_MAX_ATTEMPTS,
  type RelationCacheOptions,
  type FollowRow,
  type FollowingSnapshot,
  type LoadResult,
  type ApplyResult,
  type UndoResult,
} from "./relation-cache.js";
export { FansCache, DEFAULT_FANS_WINDOW, DEFAULT_FANS_TOMBSTONES, type FansCacheOptions, type FanRow, type FanStepResult, type FansLoadResult, type FansPageResult } from "./fans-cache.js";
export { RelationOutbox } from "./relation-outbox.js";
export {
  MAX_BATCH_IS_FOLLOWING,
  MAX_PAGE_LIMIT,
  type NotLoaded,
  type PageResult,
  type FriendsResult,
  type UnresolvedFriend,
  type FollowsTargetResult,
} from "./following-reads.js";
export { relationKeys, type RelationKeys } from "./relation-keys.js";
export { DEFAULT_CACHE_TTL_MS, DEFAULT_CACHE_TTL_JITTER_MS, jitteredTtlMs } from "./cache-ttl.js";
export { UnexpectedReplyError } from "./script-replies.js";
