/**
 * The relation.v1 handlers: decode and validate, call a use case, encode. No
 * Redis, SQL or Kafka here; a store outage a use case throws becomes
 * UNAVAILABLE in `unary` (`@rs/grpc`), like in every service.
 */
import { assertDecoded, unary } from "@rs/grpc";
import type { relationV1 } from "@rs/idl";
import { encodeCursor } from "../domain/cursor.js";
import type { RelationLists, UserListPage } from "../domain/relation-lists.js";
import type { RelationQueries } from "../domain/relation-queries.js";
import type { RelationWriter } from "../domain/relation-writer.js";
import { cursor, listLimit, pageRequest, targetIds, userId } from "./request-validation.js";

export interface RelationUseCases {
  readonly writer: RelationWriter;
  readonly queries: RelationQueries;
  readonly lists: RelationLists;
}

function encodePage(page: UserListPage): relationV1.ListFollowingResponse {
  return {
    // hydrate built each listed user with exactly the reply's fields
    users: page.users,
    nextCursor: page.next ? encodeCursor(page.next) : "",
    totalCount: page.total,
  };
}

/** The relation.v1.RelationService implementation over the use cases. */
export function relationHandlers(u: RelationUseCases): relationV1.RelationServiceServer {
  return {
    follow: unary(async (req) => {
      assertDecoded(req);
      const from = userId("from_user_id", req.fromUserId);
      const to = userId("to_user_id", req.toUserId);
      return u.writer.follow(from, to, req.source);
    }),
    unfollow: unary(async (req) => {
      assertDecoded(req);
      const from = userId("from_user_id", req.fromUserId);
      const to = userId("to_user_id", req.toUserId);
      return u.writer.unfollow(from, to);
    }),
    isFollowing: unary(async (req) => {
      assertDecoded(req);
      const from = userId("from_user_id", req.fromUserId);
      const to = userId("to_user_id", req.toUserId);
      return { following: await u.queries.isFollowing(from, to) };
    }),
    batchIsFollowing: unary(async (req) => {
      assertDecoded(req);
      const from = userId("from_user_id", req.fromUserId);
      const targets = targetIds(req.toUserIds);
      return { following: await u.queries.batchIsFollowing(from, targets) };
    }),
    isMutual: unary(async (req) => {
      assertDecoded(req);
      const a = userId("user_a", req.userA);
      const b = userId("user_b", req.userB);
      const s = await u.queries.isMutual(a, b);
      return { aFollowsB: s.aFollowsB, bFollowsA: s.bFollowsA, mutual: s.mutual };
    }),
    listFollowing: unary(async (req) => {
      const { user, page } = pageRequest(req);
      return encodePage(await u.lists.following(user, page));
    }),
    listFans: unary(async (req) => {
      const { user, page } = pageRequest(req);
      return encodePage(await u.lists.fans(user, page));
    }),
    listFriends: unary(async (req) => {
      const { user, page } = pageRequest(req);
      return encodePage(await u.lists.friends(user, page));
    }),
    listCommonFollowing: unary(async (req) => {
      assertDecoded(req);
      const viewer = userId("viewer_id", req.viewerId);
      const target = userId("target_id", req.targetId);
      const after = cursor(req.cursor);
      const limit = listLimit(req.limit);
      return encodePage(await u.lists.commonFollowing(viewer, target, after, limit));
    }),
  };
}
