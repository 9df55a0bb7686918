/**
 * `/api/relation/...`: `follow`, the page routes `get_follower`/`get_fans`
 * (page/pageSize; docs/design.md §1), and the project's own cursor-paged
 * routes, one per RPC.
 */
import { z } from "zod";
import { invalidArgument } from "@rs/errors";
import { BATCH_IS_FOLLOWING_MAX, LIST_LIMIT_MAX } from "@rs/idl";
import type { GatewayClients } from "../clients/service-clients.js";
import { readWindow, type WalkSettings } from "../clients/list-window.js";
import { assertActingAs } from "../http/auth.js";
import { cursorSchema, intSchema, userIdSchema } from "../http/params.js";
import { CursorPage, SeedPage, SeedResult, apiRelationUser } from "./api-schemas.js";
import { defineRoute, type ApiRoute } from "./route-spec.js";

export const DEFAULT_PAGE_SIZE = 20;
/** `source` of follows made through /api (stored with the edge). */
export const API_FOLLOW_SOURCE = 2;
const MAX_SOURCE = 1_000;

type ListRpc = "listFollowing" | "listFans" | "listFriends";

const actorId = () => userIdSchema("The acting user; optional, and must be the caller's own id when given").optional();
const cursorQuery = () =>
  z.strictObject({
    userId: userIdSchema("Whose list (default: the caller)").optional(),
    cursor: cursorSchema().optional(),
    limit: intSchema(1, LIST_LIMIT_MAX, "Page size").optional(),
  });
const pageQuery = (maxOffset: number) =>
  z.strictObject({
    userId: userIdSchema("Whose list (default: the caller)").optional(),
    page: intSchema(1, Number.MAX_SAFE_INTEGER, `Page number, from 1; page*pageSize at most ${maxOffset}, 400 beyond (use the cursor route)`).optional(),
    pageSize: intSchema(1, LIST_LIMIT_MAX, `Users per page (default ${DEFAULT_PAGE_SIZE})`).optional(),
  });

/** Settings of the page routes: how deep they go, and the deadline of their walk. */
export type PageRouteSettings = WalkSettings & { readonly PAGE_MAX_OFFSET: number };
const followBody = z.strictObject({
  followUserId: userIdSchema("The user to follow or unfollow"),
  userId: actorId(),
  source: intSchema(0, MAX_SOURCE, "Where in the app the follow came from; stored with the edge").optional(),
});

export function relationRoutes(clients: GatewayClients, cfg: PageRouteSettings): ApiRoute[] {
  const { relation } = clients;

  const cursorList = (path: string, rpc: ListRpc, operationId: string, summary: string) =>
    defineRoute({
      method: "get",
      path,
      operationId,
      summary,
      tag: "relation",
      auth: "bearer",
      query: cursorQuery(),
      response: CursorPage,
      handle: async ({ query, me }) => {
        const viewer = me().userId;
        const r = await relation[rpc]({
          userId: query.userId ?? viewer,
          cursor: query.cursor ?? "",
          limit: query.limit ?? DEFAULT_PAGE_SIZE,
          viewerId: viewer,
        });
        return { users: r.users.map(apiRelationUser), nextCursor: r.nextCursor, totalCount: r.totalCount };
      },
    });

  const seedPage = (path: string, rpc: ListRpc, operationId: string, summary: string, cursorRoute: string) =>
    defineRoute({
      method: "get",
      path,
      operationId,
      summary,
      description:
        `Served by walking the keyset-paged list from its start: pages up to page*pageSize = PAGE_MAX_OFFSET (${cfg.PAGE_MAX_OFFSET}) only, ` +
        `400 beyond (deeper ones use the cursor route ${cursorRoute}); 504 when the walk takes longer than ${cfg.LIST_WALK_DEADLINE_MS} ms (LIST_WALK_DEADLINE_MS) in all.`,
      tag: "relation",
      auth: "bearer",
      query: pageQuery(cfg.PAGE_MAX_OFFSET),
      response: SeedPage,
      handle: async ({ query, me }) => {
        const viewer = me().userId;
        const page = query.page ?? 1;
        const size = query.pageSize ?? DEFAULT_PAGE_SIZE;
        const skip = (page - 1) * size;
        if (skip + size > cfg.PAGE_MAX_OFFSET) {
          throw invalidArgument(`page: too deep (page*pageSize must be at most ${cfg.PAGE_MAX_OFFSET}); use the cursor route (/api${cursorRoute})`);
        }
        const userId = query.userId ?? viewer;
        const w = await readWindow((cursor, limit, deadlineMs) => relation[rpc]({ userId, cursor, limit, viewerId: viewer }, { deadlineMs }), skip, size, cfg);
        return { userList: w.users.map(apiRelationUser), totalCount: w.totalCount };
      },
    });

  const write = (path: string, op: "follow" | "unfollow", summary: string) =>
    defineRoute({
      method: "post",
      path,
      operationId: op,
      summary,
      tag: "relation",
      auth: "bearer",
      body: followBody,
      response: SeedResult,
      errors: [403, 404],
      handle: async ({ body, me }) => {
        const caller = me();
        assertActingAs(caller, body.userId);
        const edge = { fromUserId: caller.userId, toUserId: body.followUserId };
        const { changed } = op === "follow" ? await relation.follow({ ...edge, source: body.source ?? API_FOLLOW_SOURCE }) : await relation.unfollow(edge);
        const message = op === "follow" ? (changed ? "followed" : "already following") : changed ? "unfollowed" : "was not following";
        return { success: true, message, changed };
      },
    });

  return [
    write("/relation/follow", "follow", "Follow a user; a follow already in place succeeds with changed=false"),
    write("/relation/unfollow", "unfollow", "Unfollow a user; unfollowing someone not followed succeeds with changed=false"),
    seedPage("/relation/get_follower", "listFollowing", "getFollowerPage", "The users `userId` follows, by page", "/relation/following"),
    seedPage("/relation/get_fans", "listFans", "getFansPage", "The users who follow `userId`, by page", "/relation/fans"),
    cursorList("/relation/following", "listFollowing", "listFollowing", "The users `userId` follows, newest first, cursor-paged"),
    cursorList("/relation/fans", "listFans", "listFans", "The users who follow `userId`, newest first, cursor-paged"),
    cursorList("/relation/friends", "listFriends", "listFriends", "Mutual follows of `userId`, newest first, cursor-paged"),
    defineRoute({
      method: "get",
      path: "/relation/common_following",
      operationId: "listCommonFollowing",
      summary: "The users the caller follows who follow `targetUserId` (followed by people you know)",
      tag: "relation",
      auth: "bearer",
      query: z.strictObject({
        targetUserId: userIdSchema("The user whose followers are intersected"),
        cursor: cursorSchema().optional(),
        limit: intSchema(1, LIST_LIMIT_MAX, "Page size").optional(),
      }),
      response: CursorPage,
      handle: async ({ query, me }) => {
        const r = await relation.listCommonFollowing({
          viewerId: me().userId,
          targetId: query.targetUserId,
          cursor: query.cursor ?? "",
          limit: query.limit ?? DEFAULT_PAGE_SIZE,
        });
        return { users: r.users.map(apiRelationUser), nextCursor: r.nextCursor, totalCount: r.totalCount };
      },
    }),
    defineRoute({
      method: "get",
      path: "/relation/is_following",
      operationId: "isFollowing",
      summary: "Whether `userId` (default: the caller) follows `targetUserId`",
      tag: "relation",
      auth: "bearer",
      query: z.strictObject({ userId: userIdSchema("The follower (default: the caller)").optional(), targetUserId: userIdSchema("The followee") }),
      response: z.object({ following: z.boolean() }).meta({ id: "IsFollowing" }),
      handle: async ({ query, me }) => relation.isFollowing({ fromUserId: query.userId ?? me().userId, toUserId: query.targetUserId }),
    }),
    defineRoute({
      method: "post",
      path: "/relation/is_following/batch",
      operationId: "batchIsFollowing",
      summary: `Whether \`userId\` (default: the caller) follows each of up to ${BATCH_IS_FOLLOWING_MAX} users, in order`,
      tag: "relation",
      auth: "bearer",
      body: z.strictObject({
        userId: userIdSchema("The follower (default: the caller)").optional(),
        targetUserIds: z.array(userIdSchema()).min(1).max(BATCH_IS_FOLLOWING_MAX),
      }),
      response: z.object({ following: z.array(z.boolean()).describe("Same order as targetUserIds") }).meta({ id: "BatchIsFollowing" }),
      handle: async ({ body, me }) => relation.batchIsFollowing({ fromUserId: body.userId ?? me().userId, toUserIds: body.targetUserIds }),
    }),
    defineRoute({
      method: "get",
      path: "/relation/mutual",
      operationId: "isMutual",
      summary: "Whether `userId` (default: the caller) and `otherUserId` follow each other",
      tag: "relation",
      auth: "bearer",
      query: z.strictObject({ userId: userIdSchema("One user (default: the caller)").optional(), otherUserId: userIdSchema("The other user") }),
      response: z.object({ aFollowsB: z.boolean(), bFollowsA: z.boolean(), mutual: z.boolean() }).meta({ id: "Mutual" }),
      handle: async ({ query, me }) => relation.isMutual({ userA: query.userId ?? me().userId, userB: query.otherUserId }),
    }),
  ];
}
