/** The shapes of the `/api` answers, named as OpenAPI components, and their builders. */
import { z } from "zod";
import type { countV1, relationV1, userV1 } from "@rs/idl";

const id = () => z.int().min(1).meta({ format: "int64", example: 1024 });
const count = () => z.int().min(0);

export const ApiUser = z
  .object({
    id: id(),
    name: z.string(),
    avatar: z.string(),
    backgroundImage: z.string(),
    signature: z.string(),
    followCount: count().describe("How many users this user follows"),
    followerCount: count().describe("How many users follow this user"),
    totalFavorited: count(),
    workCount: count(),
    favoriteCount: count(),
  })
  .meta({ id: "User", description: "A user's profile; counters are kept up to date from count.changed events" });

export const ApiUserWithFollow = ApiUser.extend({ isFollow: z.boolean().describe("Whether the caller follows this user") }).meta({ id: "UserWithFollow" });

export const ApiRelationUser = z
  .object({
    id: id(),
    name: z.string(),
    avatar: z.string(),
    backgroundImage: z.string(),
    signature: z.string(),
    followCount: count(),
    followerCount: count(),
    isFollow: z.boolean().describe("Whether the caller follows this user"),
    followedAtMs: z.int().min(0).describe("When the listed edge was created, unix ms"),
  })
  .meta({ id: "RelationUser", description: "An entry of a relation list, with the profile hydrated" });

export const CursorPage = z
  .object({
    users: z.array(ApiRelationUser),
    nextCursor: z.string().describe("Pass as `cursor` for the next page; empty at the end"),
    totalCount: count().describe("Size of the whole list"),
  })
  .meta({ id: "CursorPage" });

export const SeedPage = z
  .object({
    userList: z.array(ApiRelationUser),
    totalCount: count(),
  })
  .meta({ id: "UserListPage", description: "A page/pageSize answer" });

export const SeedResult = z
  .object({ success: z.boolean(), message: z.string(), changed: z.boolean().describe("False when nothing changed (already following / not following)") })
  .meta({ id: "RelationResult" });

export const Credentials = z.object({ userId: id(), token: z.string().describe("Bearer token (JWT)") }).meta({ id: "Credentials" });

export const ErrorBody = z
  .object({
    error: z.string().describe("What went wrong, safe to show"),
    code: z.string().describe("gRPC-style code, e.g. INVALID_ARGUMENT"),
    requestId: z.string().describe("Also in the X-Request-Id header and the gateway's log"),
  })
  .meta({ id: "Error" });

export const UserCounts = z.object({ userId: id(), followingCount: count(), followerCount: count() }).meta({ id: "UserCounts" });

/** The profile fields both user shapes share, copied one by one so no other field of `u` leaks into a response. */
const profileFields = (u: userV1.User | relationV1.RelationUser) => ({
  id: u.id,
  name: u.name,
  avatar: u.avatar,
  backgroundImage: u.backgroundImage,
  signature: u.signature,
  followCount: u.followCount,
  followerCount: u.followerCount,
});

export const apiUser = (u: userV1.User): z.infer<typeof ApiUser> => ({
  ...profileFields(u),
  totalFavorited: u.totalFavorited,
  workCount: u.workCount,
  favoriteCount: u.favoriteCount,
});

export const apiRelationUser = (u: relationV1.RelationUser): z.infer<typeof ApiRelationUser> => ({
  ...profileFields(u),
  isFollow: u.isFollow,
  followedAtMs: u.followedAtMs,
});

export const userCounts = (c: countV1.UserCounts | undefined, userId: number): z.infer<typeof UserCounts> => ({
  userId,
  followingCount: c?.followingCount ?? 0,
  followerCount: c?.followerCount ?? 0,
});
