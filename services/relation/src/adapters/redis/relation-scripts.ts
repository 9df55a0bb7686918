/**
 * The relation Lua scripts, defined on an ioredis client. Each script is its
 * `.lua` file with the shared helpers in front (`common.lua`, plus
 * `fans-common.lua` for the fans scripts), defined with `@rs/redis`'s
 * `defineScript` like every script of the suite: run by EVALSHA, EVAL after
 * NOSCRIPT (restart, failover, SCRIPT FLUSH), the key count checked on every call.
 * The persister's post-commit steps (`clearPending`, `fansApply`) take the keys
 * of any number of users: see {@link perCall}.
 */
import { readFileSync } from "node:fs";
import { ANY_KEY_COUNT, defineScript, keySlot, type RedisClient, type RedisScript } from "@rs/redis";

type Prelude = "common" | "fans";

const SPECS = {
  readState: { file: "read-state", keys: 3, prelude: "common" },
  loadFollowing: { file: "load-following", keys: 5, prelude: "common" },
  applyTransition: { file: "apply-transition", keys: 4, prelude: "common" },
  undoTransition: { file: "undo-transition", keys: 5, prelude: "common" },
  isFollowing: { file: "is-following", keys: 2, prelude: "common" },
  clearPending: { file: "clear-pending", keys: ANY_KEY_COUNT, prelude: "common" },
  markPublished: { file: "mark-published", keys: 2, prelude: "common" },
  followingPage: { file: "following-page", keys: 1, prelude: "common" },
  followingPageFor: { file: "following-page-for", keys: 3, prelude: "common" },
  followingCount: { file: "following-count", keys: 1, prelude: "common" },
  ackOutbox: { file: "ack-outbox", keys: 1, prelude: "common" },
  releaseLock: { file: "release-lock", keys: 1, prelude: "common" },
  pendingClaim: { file: "pending-claim", keys: 1, prelude: "common" },
  pendingSettle: { file: "pending-settle", keys: 1, prelude: "common" },
  redisRunMark: { file: "redis-run-mark", keys: 1, prelude: "common" },
  fansApply: { file: "fans-apply", keys: ANY_KEY_COUNT, prelude: "fans" },
  fansLoad: { file: "fans-load", keys: 2, prelude: "fans" },
  fansPage: { file: "fans-page", keys: 2, prelude: "fans" },
  friendCandidates: { file: "friend-candidates", keys: 3, prelude: "fans" },
} as const satisfies Record<string, { file: string; keys: number | typeof ANY_KEY_COUNT; prelude: Prelude }>;

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

/**
 * Entries per call of a script over many users' keys: enough that a chunk of the
 * persister takes a few calls instead of one per edge, few enough that no call
 * holds Redis for long (a fans step is a handful of commands).
 */
export const MAX_ENTRIES_PER_CALL = 200;

/**
 * Splits entries owned by users into script calls: per call the users in
 * order, each with the indexes of its entries (in their order in `owners`),
 * at most `max` entries in all. On a Redis Cluster a call's users share one
 * hash slot (its keys must; `slotKey` names a key of the user); on a single
 * Redis any users share a call. A user with more entries than fit is split
 * over calls.
 */
export function perCall(redis: RedisClient, owners: readonly number[], slotKey: (user: number) => string, max = MAX_ENTRIES_PER_CALL): Map<number, number[]>[] {
  const byUser = new Map<number, number[]>();
  owners.forEach((user, i) => {
    const list = byUser.get(user);
    if (list) list.push(i);
    else byUser.set(user, [i]);
  });
  const groups = new Map<number, [number, number[]][]>();
  for (const entry of byUser) {
    const slot = redis.isCluster ? keySlot(slotKey(entry[0])) : 0;
    const group = groups.get(slot);
    if (group) group.push(entry);
    else groups.set(slot, [entry]);
  }
  const calls: Map<number, number[]>[] = [];
  for (const group of groups.values()) {
    let call = new Map<number, number[]>();
    let size = 0;
    for (const [user, indexes] of group) {
      for (let from = 0; from < indexes.length;) {
        if (size === max) {
          calls.push(call);
          call = new Map();
          size = 0;
        }
        const take = indexes.slice(from, from + max - size);
        call.set(user, take);
        size += take.length;
        from += take.length;
      }
    }
    if (size > 0) calls.push(call);
  }
  return calls;
}
