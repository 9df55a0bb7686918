/**
 * `/douyin/...`: wire-compatible with the "simple douyin" app API (user and
 * relation parts). Parameters come from the query or the form, the token as the
 * `token` parameter; answers are HTTP 200 with `status_code`/`status_msg` and the
 * route's documented keys (see douyin-envelope.ts).
 */
import express, { Router, type Request, type RequestHandler, type Response } from "express";
import type { TokenVerifier } from "@rs/auth";
import { invalidArgument, notFound } from "@rs/errors";
import type { Logger } from "@rs/logger";
import type { GatewayClients } from "../clients/service-clients.js";
import { RPC_PAGE_MAX, readWindow, type PageFetch } from "../clients/list-window.js";
import { assertActingAs, paramTokenAuth, principalOf, requirePrincipal } from "../http/auth.js";
import type { LimiterFactory, LimitSettings } from "../http/limits.js";
import { familyLimiters } from "../http/limits.js";
import { parseInput } from "../http/validate.js";
import { douyinErrorHandler, douyinLimited, douyinOk } from "./douyin-envelope.js";
import { ACTION_FOLLOW, credentialsParams, douyinParams, listParams, relationActionParams, userParams } from "./douyin-params.js";
import { douyinFriendOfRelation, douyinUser, douyinUserOfRelation } from "./douyin-user.js";

export interface DouyinDeps {
  readonly clients: GatewayClients;
  readonly verifier: TokenVerifier;
  readonly limiter: LimiterFactory;
  readonly config: LimitSettings & { readonly DOUYIN_LIST_MAX: number; readonly HTTP_BODY_LIMIT: string };
  readonly logger: Logger;
}

/** `source` of follows made through the app API (stored with the edge). */
export const DOUYIN_FOLLOW_SOURCE = 1;

type RelationList = "listFollowing" | "listFans" | "listFriends";

export function douyinRouter(deps: DouyinDeps): Router {
  const { clients, verifier, logger, config } = deps;
  const router = Router();
  const limits = familyLimiters(deps.limiter, config, "douyin", douyinLimited);
  const tokenOf = (req: Request) => douyinParams(req).token;
  const signedIn = [paramTokenAuth(verifier, logger, true, tokenOf), limits.user];
  // A token that is present is verified even where none is needed: a forged one is refused, not ignored.
  const maybeSignedIn = [paramTokenAuth(verifier, logger, false, tokenOf), limits.user];

  router.use(limits.ip);
  // Parsed here, after the address limit, so a body error is answered in the app API's envelope.
  router.use(express.json({ limit: config.HTTP_BODY_LIMIT }), express.urlencoded({ extended: false, limit: config.HTTP_BODY_LIMIT }));

  const credentialsRoute =
    (call: "register" | "login"): RequestHandler =>
    async (req, res) => {
      const p = parseInput(credentialsParams, douyinParams(req));
      const r = await clients.user[call]({ username: p.username, password: p.password });
      douyinOk(res, { user_id: r.userId, token: r.token });
    };
  router.post("/user/register/", limits.auth, credentialsRoute("register"));
  router.post("/user/login/", limits.auth, credentialsRoute("login"));

  // With only a token: the caller's own profile. is_follow is relative to the caller.
  router.get("/user/", ...maybeSignedIn, async (req, res) => {
    const p = parseInput(userParams, douyinParams(req));
    const me = principalOf(res);
    const target = p.user_id ?? me?.userId;
    if (target === undefined) throw invalidArgument("user_id: is required without a token");
    const askFollow = me !== undefined && me.userId !== target;
    const [{ user }, follow] = await Promise.all([
      clients.user.getUser({ userId: target }),
      askFollow ? clients.relation.isFollowing({ fromUserId: me.userId, toUserId: target }) : Promise.resolve({ following: false }),
    ]);
    if (!user) throw notFound("user not found");
    douyinOk(res, { user: douyinUser(user, follow.following) });
  });

  router.post("/relation/action/", ...signedIn, async (req, res) => {
    const me = requirePrincipal(res);
    const p = parseInput(relationActionParams, douyinParams(req));
    assertActingAs(me, p.user_id);
    const edge = { fromUserId: me.userId, toUserId: p.to_user_id };
    if (p.action_type === ACTION_FOLLOW) await clients.relation.follow({ ...edge, source: DOUYIN_FOLLOW_SOURCE });
    else await clients.relation.unfollow(edge);
    douyinOk(res, {});
  });

  const listRoute =
    (rpc: RelationList, friends: boolean): RequestHandler =>
    async (req: Request, res: Response) => {
      const me = requirePrincipal(res);
      const p = parseInput(listParams, douyinParams(req));
      const userId = p.user_id ?? me.userId;
      const fetch: PageFetch = (cursor, limit) => clients.relation[rpc]({ userId, cursor, limit: Math.min(limit, RPC_PAGE_MAX), viewerId: me.userId });
      const { users } = await readWindow(fetch, 0, config.DOUYIN_LIST_MAX);
      douyinOk(res, { user_list: users.map(friends ? douyinFriendOfRelation : douyinUserOfRelation) });
    };
  router.get("/relation/follow/list/", ...signedIn, listRoute("listFollowing", false));
  router.get("/relation/follower/list/", ...signedIn, listRoute("listFans", false));
  router.get("/relation/friend/list/", ...signedIn, listRoute("listFriends", true));

  router.use((_req, res) => {
    res.status(404).json({ status_code: 404, status_msg: "no such route" });
  });
  router.use(douyinErrorHandler(logger));
  return router;
}
