import { describe, expect, it } from "vitest";
import { decodeEntry, encodeInvalidated, encodeProfile } from "../src/adapters/redis/profile-entry.js";
import type { StoredProfile } from "../src/domain/profile.js";

const stored: StoredProfile = {
  revision: 12,
  profile: { id: 7, name: 'Zoë | "quoted"', avatar: "https://a/b.png", backgroundImage: "", signature: "hi", followCount: 3, followerCount: 9_007_199_254 },
};

describe("profile cache entries", () => {
  it("round-trips a profile, revision first", () => {
    const raw = encodeProfile(stored);
    expect(raw.startsWith("P12|")).toBe(true);
    expect(decodeEntry(7, raw)).toEqual({ kind: "profile", stored });
  });

  it("reads the missing mark, and treats invalidation marks and garbage as misses", () => {
    expect(decodeEntry(7, "M")).toEqual({ kind: "missing" });
    expect(decodeEntry(7, null)).toBeUndefined();
    expect(decodeEntry(7, encodeInvalidated(12))).toBeUndefined();
    for (const junk of ["", "P", "P12", "P12|{", "Px|[]", "P1|[1,2]", "hello"]) expect(decodeEntry(7, junk), junk).toBeUndefined();
  });
});
