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
  readonly numberOfKeys: number;
}

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
 * Cluster alike (each call's keys must then share a slot). This is the one
 * way the suite runs Lua (the gateway's rate limiter, relation's scripts,
 * user and count caches).
 */
export function defineScript<TResult = unknown>(redis: Redis | Cluster, name: string, lua: string, numberOfKeys: number): RedisScript<TResult> {
  if (!Number.isInteger(numberOfKeys) || numberOfKeys < 0) {
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
    redis.defineCommand(name, { lua, numberOfKeys });
    scripts.set(name, sha);
  }
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
