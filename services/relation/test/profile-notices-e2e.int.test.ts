/**
 * Hot profiles with change notices end to end (ADR 28): the relation service
 * keeps a listed profile for as long as PROFILE_HOT_TTL_MS allows (here ten
 * minutes), and a change the user processes make to it still reaches the
 * next page at once, through Redis pub/sub.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/support/wait-for.js";
import { createWorld, type RelationInstance, type World } from "./relation-harness.js";

let w: World;
let r: RelationInstance;

beforeAll(async () => {
  w = await createWorld("notices");
  r = await w.relation({ PROFILE_HOT_TTL_MS: "600000", HOT_KEY_MIN_HITS: "1", PROFILE_REFRESH_AHEAD: "false" });
});

afterAll(async () => {
  await r?.stop();
  await w?.cleanup();
});

describe("profile change notices, end to end", () => {
  it("a count the user-consumer applies is listed on the next page, although the profile may be kept for ten minutes", async () => {
    const [a, b] = await w.registerUsers(2);
    expect(await r.client.follow({ fromUserId: a!, toUserId: b!, source: 0 })).toEqual({ changed: true });
    const listed = async () => (await r.client.listFollowing({ userId: a!, cursor: "", limit: 20, viewerId: a! })).users.find((u) => u.id === b);
    const hits = () => r.internals.users.profileCacheStats.hits;
    // b's profile is kept: a page answers it without asking the user service
    await waitFor("b's profile kept", async () => {
      const before = hits();
      await listed();
      return hits() > before;
    });
    const kept = await listed();
    expect(kept?.followerCount).toBe(0);

    // what the user-consumer does when count.changed says b has 42 followers
    expect(await w.userService.internals.counts.applyCountChanged({ userId: b!, name: "follower", value: 42, version: 1 })).toEqual({ applied: true });
    await waitFor("the new count listed", async () => (await listed())?.followerCount === 42, 5_000);
    // and it is kept again
    await waitFor("kept again", async () => {
      const before = hits();
      return (await listed())?.followerCount === 42 && hits() > before;
    });
  });
});
