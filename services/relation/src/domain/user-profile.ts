import type { UserProfile } from "./ports.js";

/**
 * Exactly the profile fields of `u`: a wider object (the user service's User,
 * a listed user) must not carry its other fields into a profile or a reply.
 */
export function profileOf(u: UserProfile): UserProfile {
  return {
    id: u.id,
    name: u.name,
    avatar: u.avatar,
    backgroundImage: u.backgroundImage,
    signature: u.signature,
    followCount: u.followCount,
    followerCount: u.followerCount,
  };
}
