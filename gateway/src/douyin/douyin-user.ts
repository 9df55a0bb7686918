/** The app API's user objects, built from the services' messages. */
import type { relationV1, userV1 } from "@rs/idl";

/** `User` of the app API: every documented field, numbers as numbers. */
export interface DouyinUser {
  id: number;
  name: string;
  follow_count: number;
  follower_count: number;
  is_follow: boolean;
  avatar: string;
  background_image: string;
  signature: string;
  total_favorited: number;
  work_count: number;
  favorite_count: number;
}

/** `FriendUser` of the app API: a user plus the latest chat message with them (chat is not part of this suite: empty). */
export interface DouyinFriendUser extends DouyinUser {
  message: string;
  /** 0 = the caller received `message`, 1 = the caller sent it. */
  msgType: number;
}

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
