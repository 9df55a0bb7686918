/**
 * `/douyin/...`: wire-compatible with the "simple douyin" app API (user and
 * relation parts). Parameters come from the query or the form, the token as the
 * `token` parameter; answers are HTTP 200 with `status_code`/`status_msg` and the
 * route's documented keys (see douyin-envelope.ts). The routes are declared
 * once (douyin-route-spec.ts) and both served and documented from that: the
 * OpenAPI document is at /douyin/openapi.json, browsable at /api/docs.
 */
import express, { Router, type Request } from "express";
import { z } from "zod";
import type { TokenVerifier } from "@rs/auth";
import { invalidArgument, notFound } from "@rs/errors";
import { LIST_LIMIT_MAX } from "@rs/idl";
import type { Logger } from "@rs/logger";
import { OPENAPI_PATH } from "../api/openapi.js";
import type { GatewayClients } from "../clients/service-clients.js";
import { readWindow, type PageFetch, type WalkSettings } from "../clients/list-window.js";
import { assertActingAs, paramTokenAuth, principalOf, requirePrincipal } from "../http/auth.js";
import type { LimiterFactory, LimitSettings } from "../http/limits.js";
import { familyLimiters } from "../http/limits.js";
import { douyinErrorHandler, douyinLimited } from "./douyin-envelope.js";
import { DOUYIN_API_VERSION, buildDouyinOpenApiDocument } from "./douyin-openapi.js";
import { ACTION_FOLLOW, credentialsParams, douyinParams, listParams, relationActionParams, userParams } from "./douyin-params.js";
import { defineDouyinRoute, mountDouyinRoutes, type DouyinRoute } from "./douyin-route-spec.js";
import { DouyinFriendUserSchema, DouyinUserSchema, douyinFriendOfRelation, douyinUser, douyinUserOfRelation } from "./douyin-user.js";

export interface DouyinDeps {
  readonly clients: GatewayClients;
  readonly verifier: TokenVerifier;
  readonly limiter: LimiterFactory;
  readonly config: LimitSettings & DouyinListSettings & { readonly HTTP_BODY_LIMIT: string };
  readonly logger: Logger;
}

/** `source` of follows made through the app API (stored with the edge). */
export const DOUYIN_FOLLOW_SOURCE = 1;

type RelationList = "listFollowing" | "listFans" | "listFriends";

/** Settings of the list routes: how many users they answer, and the deadline of their walk. */
export type DouyinListSettings = WalkSettings & { readonly DOUYIN_LIST_MAX: number };

/** Every /douyin route declaration, in matching order. */
export function douyinRoutes(clients: GatewayClients, config: DouyinListSettings): DouyinRoute[] {
  const credentialsRoute = (call: "register" | "login", summary: string, errors: number[]) =>
    defineDouyinRoute({
      method: "post",
      path: `/user/${call}/`,
      operationId: `douyin_${call}`,
      summary,
      tag: "user",
      token: "none",
      limit: "credentials",
      params: credentialsParams,
      response: z.object({
        user_id: z.int().min(0).describe("The account's id (0 on failure)"),
        token: z.string().describe("JWT to pass as `token` (empty on failure)"),
      }),
      errors,
      handle: async (p) => {
        const r = await clients.user[call]({ username: p.username, password: p.password });
        return { user_id: r.userId, token: r.token };
      },
    });

  const listRoute = (rpc: RelationList, path: string, summary: string, friends: boolean) =>
    defineDouyinRoute({
      method: "get",
      path,
      operationId: `douyin_${rpc}`,
      summary,
      description:
        `The first ${config.DOUYIN_LIST_MAX} entries (DOUYIN_LIST_MAX), newest first; is_follow is relative to the caller. ` +
        `The list is walked from its start in calls of up to ${LIST_LIMIT_MAX}: status_code 504 when the walk takes longer than ${config.LIST_WALK_DEADLINE_MS} ms (LIST_WALK_DEADLINE_MS) in all.`,
      tag: "relation",
      token: "required",
      params: listParams,
      response: z.object({ user_list: z.array(friends ? DouyinFriendUserSchema : DouyinUserSchema) }),
      errors: [404],
      handle: async (p, _req, res) => {
        const me = requirePrincipal(res);
        const userId = p.user_id ?? me.userId;
        const fetch: PageFetch = (cursor, limit, deadlineMs) =>
          clients.relation[rpc]({ userId, cursor, limit: Math.min(limit, LIST_LIMIT_MAX), viewerId: me.userId }, { deadlineMs });
        const { users } = await readWindow(fetch, 0, config.DOUYIN_LIST_MAX, config);
        return { user_list: users.map(friends ? douyinFriendOfRelation : douyinUserOfRelation) };
      },
    });

  return [
    credentialsRoute("register", "Create an account and sign in", [409]),
    credentialsRoute("login", "Sign in with username and password", [401]),
    // With only a token: the caller's own profile. is_follow is relative to the caller.
    defineDouyinRoute({
      method: "get",
      path: "/user/",
      operationId: "douyin_user",
      summary: "A user's profile",
      description: "With `user_id`: that user; with only a token: the caller. A token that is present is verified, so a forged one is refused.",
      tag: "user",
      token: "optional",
      params: userParams,
      response: z.object({ user: DouyinUserSchema.nullable().describe("null on failure") }),
      errors: [404],
      handle: async (p, _req, res) => {
        const me = principalOf(res);
        const target = p.user_id ?? me?.userId;
        if (target === undefined) throw invalidArgument("user_id: is required without a token");
        const askFollow = me !== undefined && me.userId !== target;
        const [{ user }, follow] = await Promise.all([
          clients.user.getUser({ userId: target }),
          askFollow ? clients.relation.isFollowing({ fromUserId: me.userId, toUserId: target }) : Promise.resolve({ following: false }),
        ]);
        if (!user) throw notFound("user not found");
        return { user: douyinUser(user, follow.following) };
      },
    }),
    defineDouyinRoute({
      method: "post",
      path: "/relation/action/",
      operationId: "douyin_relation_action",
      summary: "Follow or unfollow a user as the caller",
      tag: "relation",
      token: "required",
      params: relationActionParams,
      response: z.object({}),
      errors: [403, 404],
      handle: async (p, _req, res) => {
        const me = requirePrincipal(res);
        assertActingAs(me, p.user_id);
        const edge = { fromUserId: me.userId, toUserId: p.to_user_id };
        if (p.action_type === ACTION_FOLLOW) await clients.relation.follow({ ...edge, source: DOUYIN_FOLLOW_SOURCE });
        else await clients.relation.unfollow(edge);
        return {};
      },
    }),
    listRoute("listFollowing", "/relation/follow/list/", "Whom a user follows", false),
    listRoute("listFans", "/relation/follower/list/", "Who follows a user", false),
    listRoute("listFriends", "/relation/friend/list/", "A user's friends (mutual follows)", true),
  ];
}

export function douyinRouter(deps: DouyinDeps): Router {
  const { clients, verifier, logger, config } = deps;
  const router = Router();
  const routes = douyinRoutes(clients, config);
  const document = buildDouyinOpenApiDocument(routes, DOUYIN_API_VERSION);
  const limits = familyLimiters(deps.limiter, config, "douyin", douyinLimited);
  const tokenOf = (req: Request) => douyinParams(req).token;

  router.use(limits.ip);
  // Parsed here, after the address limit, so a body error is answered in the app API's envelope.
  router.use(express.json({ limit: config.HTTP_BODY_LIMIT }), express.urlencoded({ extended: false, limit: config.HTTP_BODY_LIMIT }));
  router.get(OPENAPI_PATH, (_req, res) => void res.json(document));
  mountDouyinRoutes(router, routes, {
    signedIn: [paramTokenAuth(verifier, logger, true, tokenOf), limits.user],
    // A token that is present is verified even where none is needed: a forged one is refused, not ignored.
    maybeSignedIn: [paramTokenAuth(verifier, logger, false, tokenOf), limits.user],
    credentialsLimit: limits.auth,
  });

  router.use((_req, res) => {
    res.status(404).json({ status_code: 404, status_msg: "no such route" });
  });
  router.use(douyinErrorHandler(logger));
  return router;
}
