import { describe, expect, it } from "vitest";
import { evaluate, failed, ok, type Observation, type ServiceView, type ShardRows } from "../checks.js";
import { AckModel } from "../model.js";

const set = (...xs: number[]) => new Set(xs);

/** A consistent world: 1 follows 2 and 3, 2 follows 1. */
function world(): { model: AckModel; shards: ShardRows; services: Map<number, ServiceView> } {
  const model = new AckModel();
  model.record(1, 2, "follow", "ack", true);
  model.record(1, 3, "follow", "ack", true);
  model.record(2, 1, "follow", "ack", true);
  const shards: ShardRows = {
    follows: new Map([
      [1, set(2, 3)],
      [2, set(1)],
    ]),
    fans: new Map([
      [2, set(1)],
      [3, set(1)],
      [1, set(2)],
    ]),
    followingCounts: new Map([
      [1, 2],
      [2, 1],
    ]),
    followerCounts: new Map([
      [1, 1],
      [2, 1],
      [3, 1],
    ]),
  };
  const view = (following: number[], fans: number[]): ServiceView => ({
    following: ok({ ids: new Set(following), total: following.length }),
    fans: ok({ ids: new Set(fans), total: fans.length }),
    counts: ok({ following: following.length, follower: fans.length }),
    profile: ok({ following: following.length, follower: fans.length }),
  });
  const services = new Map([
    [1, view([2, 3], [2])],
    [2, view([1], [1])],
    [3, view([], [1])],
  ]);
  return { model, shards, services };
}

const obs = (w: ReturnType<typeof world>, patch: Partial<Observation> = {}): Observation => ({
  shards: ok(w.shards),
  cache: ok({ following: new Map([[1, set(2, 3)]]), fans: new Map() }),
  services: w.services,
  ...patch,
});

describe("the convergence check", () => {
  it("finds nothing when every store agrees with the acknowledged writes", () => {
    const w = world();
    expect(evaluate(w.model, [1, 2, 3], obs(w))).toEqual({ lost: [], divergent: [] });
  });

  it("reports an acknowledged follow missing from the rows and the list as lost, naming where", () => {
    const w = world();
    w.model.record(3, 2, "follow", "ack", true);
    const v = evaluate(w.model, [1, 2, 3], obs(w));
    expect(v.lost).toHaveLength(1);
    expect(v.lost[0]!.detail).toBe("3->2 acknowledged following; follows rows: not following, relation list: not following");
  });

  it("reports a stale cached following:{A} as lost", () => {
    const w = world();
    const v = evaluate(w.model, [1, 2, 3], obs(w, { cache: ok({ following: new Map([[1, set(2)]]), fans: new Map() }) }));
    expect(v.lost.map((f) => f.detail)).toEqual(["1->3 acknowledged following; following:{A}: not following"]);
  });

  it("accepts either state for a pair whose last write had no answer, as long as every store agrees", () => {
    const w = world();
    w.model.record(1, 3, "unfollow", "unknown");
    expect(evaluate(w.model, [1, 2, 3], obs(w)).divergent).toEqual([]);
    const cache = ok({ following: new Map([[1, set(2)]]), fans: new Map() });
    const v = evaluate(w.model, [1, 2, 3], obs(w, { cache }));
    expect(v.lost).toEqual([]);
    expect(v.divergent.map((f) => f.kind)).toEqual(["open pair"]);
  });

  it("reports follows without the matching fans row, and counts off the cardinality or negative", () => {
    const w = world();
    const shards = {
      ...w.shards,
      fans: new Map([
        [2, set(1)],
        [1, set(2)],
      ]),
      followerCounts: new Map([
        [1, 1],
        [2, 1],
        [3, 1],
      ]),
    };
    w.services.set(2, { ...w.services.get(2)!, counts: ok({ following: 1, follower: -1 }) });
    const v = evaluate(w.model, [1, 2, 3], obs(w, { shards: ok(shards) }));
    const kinds = v.divergent.map((f) => f.kind).sort();
    expect(kinds).toContain("follows/fans");
    expect(kinds).toContain("negative count");
    // user 3: shard count 1, count service 1, profile 1, fans list [1] but no fans rows any more
    expect(v.divergent.filter((f) => f.user === 3 && f.kind === "count").length).toBeGreaterThan(0);
  });

  it("treats a store that cannot be read as not converged", () => {
    const w = world();
    w.services.set(1, { ...w.services.get(1)!, profile: failed("profile: 503 UNAVAILABLE") });
    const v = evaluate(w.model, [1, 2, 3], obs(w, { shards: failed("mariadb: timeout") }));
    expect(v.divergent.map((f) => f.detail)).toEqual(["shards: mariadb: timeout"]);
    const v2 = evaluate(w.model, [1, 2, 3], obs(w));
    expect(v2.divergent.map((f) => f.detail)).toEqual(["profile: profile: 503 UNAVAILABLE"]);
  });
});
