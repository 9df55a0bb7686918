/**
 * The relation Lua scripts, defined on an ioredis client. Each script is its
 * `.lua` file with the shared helpers in front (`common.lua`, plus
 * `fans-common.lua` for the fans scripts), defined with `@rs/redis`'s
 * `defineScript` like every script of the suite: run by EVALSHA, EVAL after
 * NOSCRIPT (restart, failover, SCRIPT FLUSH), the key count checked on every call.
 */
import { readFileSync } from "node:fs";
import { defineScript, type RedisClient, type RedisScript } from "@rs/redis";

type Prelude = "common" | "fans";

const SPECS = {
  readState: { file: "read-state", keys: 3, prelude: "common" },
  loadFollowing: { file: "load-following", keys: 5, prelude: "common" },
  applyTransition: { file: "apply-transition", keys: 4, prelude: "common" },
  undoTransition: { file: "undo-transition", keys: 5, prelude: "common" },
  isFollowing: { file: "is-following", keys: 2, prelude: "common" },
  clearPending: { file: "clear-pending", keys: 2, prelude: "common" },
  markPublished: { file: "mark-published", keys: 2, prelude: "common" },
  followingPage: { file: "following-page", keys: 1, prelude: "common" },
  followingCount: { file: "following-count", keys: 1, prelude: "common" },
  ackOutbox: { file: "ack-outbox", keys: 1, prelude: "common" },
  releaseLock: { file: "release-lock", keys: 1, prelude: "common" },
  pendingClaim: { file: "pending-claim", keys: 1, prelude: "common" },
  pendingSettle: { file: "pending-settle", keys: 1, prelude: "common" },
  redisRunMark: { file: "redis-run-mark", keys: 1, prelude: "common" },
  fansApply: { file: "fans-apply", keys: 2, prelude: "fans" },
  fansLoad: { file: "fans-load", keys: 2, prelude: "fans" },
  fansPage: { file: "fans-page", keys: 2, prelude: "fans" },
  friendCandidates: { file: "friend-candidates", keys: 3, prelude: "fans" },
} as const satisfies Record<string, { file: string; keys: number; prelude: Prelude }>;

export type ScriptName = keyof typeof SPECS;
export type ScriptArg = string | number;
/** Raw reply of a relation script: nested arrays of strings and integers. */
export type ScriptReply = unknown;

const read = (file: string) => readFileSync(new URL(`./lua/${file}.lua`, import.meta.url), "utf8");
let sources: Record<ScriptName, string> | undefined;

/** The full source of every script (read once, on first use). */
export function scriptSources(): Record<ScriptName, string> {
  if (!sources) {
    const common = read("common");
    const preludes: Record<Prelude, string> = { common, fans: `${common}\n${read("fans-common")}` };
    sources = Object.fromEntries(Object.entries(SPECS).map(([name, spec]) => [name, `${preludes[spec.prelude]}\n${read(spec.file)}`])) as Record<
      ScriptName,
      string
    >;
  }
  return sources;
}

/** Command names are namespaced so they never shadow an ioredis method. */
export const commandName = (name: ScriptName) => `rsRelation_${name}`;

/** Runs relation scripts on one client; defining them is idempotent per client (defineScript). */
export class RelationScripts {
  private readonly scripts: Record<ScriptName, RedisScript<ScriptReply>>;

  constructor(redis: RedisClient) {
    const src = scriptSources();
    this.scripts = Object.fromEntries(
      (Object.keys(SPECS) as ScriptName[]).map((name) => [name, defineScript<ScriptReply>(redis, commandName(name), src[name], SPECS[name].keys)]),
    ) as Record<ScriptName, RedisScript<ScriptReply>>;
  }

  /** Runs `name` with its keys (count checked: a wrong count would turn keys into arguments). */
  run(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[] = []): Promise<ScriptReply> {
    return this.scripts[name](keys, args);
  }
}
