/** The app API's user objects, built from the services' messages, and their schemas (named OpenAPI components). */
import { z } from "zod";
import type { relationV1, userV1 } from "@rs/idl";

const count = () => z.int().min(0);

/** `User` of the app API: every documented field, numbers as numbers. */
export const DouyinUserSchema = z
  .object({
    id: z.int().min(1).meta({ format: "int64", example: 1024 }),
    name: z.string(),
    follow_count: count().describe("How many users this user follows"),
    follower_count: count().describe("How many users follow this user"),
    is_follow: z.boolean().describe("Whether the caller follows this user"),
    avatar: z.string(),
    background_image: z.string(),
    signature: z.string(),
    total_favorited: count(),
    work_count: count(),
    favorite_count: count(),
  })
  .meta({ id: "DouyinUser", description: "A user of the app API (video counters are not part of this suite: 0 in lists)" });
export type DouyinUser = z.infer<typeof DouyinUserSchema>;

/** `FriendUser` of the app API: a user plus the latest chat message with them (chat is not part of this suite: empty). */
export const DouyinFriendUserSchema = DouyinUserSchema.extend({
  message: z.string().describe("Latest chat message with this friend (chat is not part of this suite: empty)"),
  msgType: z.int().min(0).max(1).describe("0 = the caller received `message`, 1 = the caller sent it"),
}).meta({ id: "DouyinFriendUser" });
export type DouyinFriendUser = z.infer<typeof DouyinFriendUserSchema>;

const NO_MESSAGE = { message: "", msgType: 0 } as const;

/** From a user-service profile; `isFollow` is relative to the caller. */
export function douyinUser(u: userV1.User, isFollow: boolean): DouyinUser {
  return {
    id: u.id,
    name: u.name,
    follow_count: u.followCount,
    follower_count: u.followerCount,
    is_follow: isFollow,
    avatar: u.avatar,
    background_image: u.backgroundImage,
    signature: u.signature,
    total_favorited: u.totalFavorited,
    work_count: u.workCount,
    favorite_count: u.favoriteCount,
  };
}

/** From a relation list entry (already hydrated, `is_follow` relative to the viewer). Video counters are not in the relation domain: 0. */
export function douyinUserOfRelation(u: relationV1.RelationUser): DouyinUser {
  return {
    id: u.id,
    name: u.name,
    follow_count: u.followCount,
    follower_count: u.followerCount,
    is_follow: u.isFollow,
    avatar: u.avatar,
    background_image: u.backgroundImage,
    signature: u.signature,
    total_favorited: 0,
    work_count: 0,
    favorite_count: 0,
  };
}

export const douyinFriendOfRelation = (u: relationV1.RelationUser): DouyinFriendUser => ({ ...douyinUserOfRelation(u), ...NO_MESSAGE });
