import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";

/** A value passed to a script as ARGV. */
export type ScriptArg = string | number | Buffer;

/** A Lua script bound to one client; call it with its keys and arguments. */
export interface RedisScript<TResult> {
  (keys: readonly string[], args?: readonly ScriptArg[]): Promise<TResult>;
  readonly scriptName: string;
  /** SHA1 of the source, the name Redis caches it under. */
  readonly sha: string;
  readonly numberOfKeys: number | typeof ANY_KEY_COUNT;
}

/** The key count of a script that takes any number of keys (a call's keys must still share a slot on a Cluster). */
export const ANY_KEY_COUNT = "any";

type ScriptMethod = (...args: ScriptArg[]) => Promise<unknown>;

/** Scripts defined per client, to refuse a second, different body under one name. */
const defined = new WeakMap<Redis | Cluster, Map<string, string>>();

/**
 * Defines a Lua script on `redis` and returns a typed function that runs it.
 *
 * Runs by EVALSHA and falls back to EVAL when Redis answers NOSCRIPT (after a
 * restart, a failover or SCRIPT FLUSH), through ioredis `defineCommand`, so
 * the script is also available in pipelines as `pipeline[name](...)`.
 *
 * The key count is checked on every call: a wrong count would silently turn
 * keys into arguments (or the reverse), and on Redis Cluster undeclared keys
 * break slot routing. `TResult` is the caller's promise about the reply
 * shape; strings come back as UTF-8. Works on a single client and on a
 * Cluster alike (each call's keys must then share a slot). A script defined
 * with {@link ANY_KEY_COUNT} takes as many keys as each call passes (it is not
 * available in pipelines). This is the one
 * way the suite runs Lua (the gateway's rate limiter, relation's scripts,
 * user and count caches).
 */
export function defineScript<TResult = unknown>(
  redis: Redis | Cluster,
  name: string,
  lua: string,
  numberOfKeys: number | typeof ANY_KEY_COUNT,
): RedisScript<TResult> {
  const anyKeys = numberOfKeys === ANY_KEY_COUNT;
  if (!anyKeys && (!Number.isInteger(numberOfKeys) || numberOfKeys < 0)) {
    throw new RangeError(`script ${name}: numberOfKeys must be a non-negative integer, got ${numberOfKeys}`);
  }
  const sha = createHash("sha1").update(lua).digest("hex");
  let scripts = defined.get(redis);
  if (!scripts) {
    scripts = new Map();
    defined.set(redis, scripts);
  }
  const existing = scripts.get(name);
  if (existing !== undefined && existing !== sha) {
    throw new Error(`script ${name} is already defined with a different body`);
  }
  if (existing === undefined) {
    // defineCommand would silently replace a built-in command method (`get`, `set`...).
    if (name in redis) throw new Error(`script name ${name} collides with a client method`);
    if (!anyKeys) redis.defineCommand(name, { lua, numberOfKeys });
    scripts.set(name, sha);
  }
  if (anyKeys) return Object.assign(anyKeyCountRun<TResult>(redis, lua, sha), { scriptName: name, sha, numberOfKeys });
  const method = (redis as unknown as Record<string, ScriptMethod>)[name];
  if (typeof method !== "function") throw new Error(`script ${name} was not defined on the client`);

  const run = (keys: readonly string[], args: readonly ScriptArg[] = []): Promise<TResult> => {
    if (keys.length !== numberOfKeys) {
      return Promise.reject(new RangeError(`script ${name} takes ${numberOfKeys} keys, got ${keys.length}`));
    }
    return method.call(redis, ...keys, ...args) as Promise<TResult>;
  };
  return Object.assign(run, { scriptName: name, sha, numberOfKeys });
}

/**
 * A script of any key count runs by the client's own EVALSHA, and EVAL after
 * NOSCRIPT, not as a defined command: a defined command without a fixed key
 * count takes the count as its first argument, and the Cluster client's
 * auto-pipelining would then route the call by the slot of that number
 * instead of its first key (EVALSHA's keys it knows).
 */
function anyKeyCountRun<TResult>(redis: Redis | Cluster, lua: string, sha: string) {
  const client = redis as unknown as Record<"evalsha" | "eval", ScriptMethod>;
  return (keys: readonly string[], args: readonly ScriptArg[] = []): Promise<TResult> => {
    const tail = [keys.length, ...keys, ...args];
    return client.evalsha.call(redis, sha, ...tail).catch((err: unknown) => {
      if (!(err instanceof Error) || !err.message.includes("NOSCRIPT")) throw err;
      return client.eval.call(redis, lua, ...tail);
    }) as Promise<TResult>;
  };
}
