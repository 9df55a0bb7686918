/** `/api/user/...`: accounts and profiles. */
import { z } from "zod";
import { notFound } from "@rs/errors";
import { BATCH_GET_USERS_MAX } from "@rs/idl";
import type { GatewayClients } from "../clients/service-clients.js";
import { passwordSchema, userIdSchema, usernameSchema } from "../http/params.js";
import { ApiUser, ApiUserWithFollow, Credentials, UserCounts, apiUser, userCounts } from "./api-schemas.js";
import { defineRoute, type ApiRoute } from "./route-spec.js";

const credentials = z.strictObject({ username: usernameSchema(), password: passwordSchema() });
const byId = z.strictObject({ userId: userIdSchema() });

export function userRoutes(clients: GatewayClients): ApiRoute[] {
  const { user, relation, count } = clients;
  return [
    defineRoute({
      method: "post",
      path: "/user/register",
      operationId: "register",
      summary: "Create an account; answers its id and a token",
      tag: "user",
      auth: "none",
      limit: "credentials",
      body: credentials,
      response: Credentials,
      status: 201,
      errors: [409],
      handle: async ({ body }) => user.register(body),
    }),
    defineRoute({
      method: "post",
      path: "/user/login",
      operationId: "login",
      summary: "Exchange username and password for a token",
      tag: "user",
      auth: "none",
      limit: "credentials",
      body: credentials,
      response: Credentials,
      errors: [401],
      handle: async ({ body }) => user.login(body),
    }),
    defineRoute({
      method: "post",
      path: "/user/logout",
      operationId: "logout",
      summary: "Revoke the token of this request",
      tag: "user",
      auth: "bearer",
      response: z.object({ success: z.boolean() }),
      handle: async ({ me }) => {
        await user.logout({ token: me().token });
        return { success: true };
      },
    }),
    defineRoute({
      method: "get",
      path: "/user/me",
      operationId: "getMe",
      summary: "The caller's own profile",
      tag: "user",
      auth: "bearer",
      response: ApiUser,
      errors: [404],
      handle: async ({ me }) => {
        const { user: u } = await user.getUser({ userId: me().userId });
        if (!u) throw notFound("user not found");
        return apiUser(u);
      },
    }),
    defineRoute({
      method: "post",
      path: "/user/batch",
      operationId: "batchGetUsers",
      summary: `Profiles of up to ${BATCH_GET_USERS_MAX} users, in the order asked; unknown ids are listed apart`,
      tag: "user",
      auth: "bearer",
      body: z.strictObject({ userIds: z.array(userIdSchema()).min(1).max(BATCH_GET_USERS_MAX) }),
      response: z.object({ users: z.array(ApiUser), missingUserIds: z.array(z.int()) }).meta({ id: "UserBatch" }),
      handle: async ({ body }) => {
        const r = await user.batchGetUsers({ userIds: body.userIds, skipProcessCache: false });
        return { users: r.users.map(apiUser), missingUserIds: r.missingUserIds };
      },
    }),
    defineRoute({
      method: "get",
      path: "/user/:userId/counts",
      operationId: "getCounts",
      summary: "How many users a user follows and is followed by (count service)",
      tag: "count",
      auth: "bearer",
      params: byId,
      response: UserCounts,
      errors: [404],
      handle: async ({ params }) => userCounts((await count.getCounts({ userId: params.userId })).counts, params.userId),
    }),
    defineRoute({
      method: "get",
      path: "/user/:userId",
      operationId: "getUser",
      summary: "A user's profile, with whether the caller follows them",
      tag: "user",
      auth: "bearer",
      params: byId,
      response: ApiUserWithFollow,
      errors: [404],
      handle: async ({ params, me }) => {
        const caller = me().userId;
        const [{ user: u }, follow] = await Promise.all([
          user.getUser({ userId: params.userId }),
          caller === params.userId ? Promise.resolve({ following: false }) : relation.isFollowing({ fromUserId: caller, toUserId: params.userId }),
        ]);
        if (!u) throw notFound("user not found");
        return { ...apiUser(u), isFollow: follow.following };
      },
    }),
  ];
}
