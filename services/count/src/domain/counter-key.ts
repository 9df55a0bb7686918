/**
 * Counters are keyed by (entity type, entity id, name): the relation counts
 * of a user are ('user', id, 'following') and ('user', id, 'follower'), and
 * other domains (likes, posts) add their own types and names.
 */
import { invalidArgument } from "@rs/errors";

export interface CounterKey {
  readonly entityType: string;
  readonly entityId: number;
  readonly name: string;
}

/** A counter value published with its version (count.changed). */
export interface CounterChange {
  readonly key: CounterKey;
  readonly value: number;
  readonly version: number;
}

export const USER_ENTITY = "user";
export const FOLLOWING = "following";
export const FOLLOWER = "follower";

/** Lower-case identifiers, short: they are part of cache keys and the primary key. */
const IDENT = /^[a-z][a-z0-9_]{0,31}$/;

export const isEntityId = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 0;
export const isIdent = (s: unknown): s is string => typeof s === "string" && IDENT.test(s);

/** Throws INVALID_ARGUMENT naming what is wrong with `key`. */
export function assertCounterKey(key: CounterKey | undefined, where = "key"): asserts key is CounterKey {
  if (!key) throw invalidArgument(`${where} is required`);
  if (!isIdent(key.entityType)) throw invalidArgument(`${where}.entity_type must match ${IDENT.source}`);
  if (!isEntityId(key.entityId)) throw invalidArgument(`${where}.entity_id must be a positive integer below 2^53`);
  if (!isIdent(key.name)) throw invalidArgument(`${where}.name must match ${IDENT.source}`);
}

/** A stable string form, for maps and singleflight. */
export const counterKeyString = (k: CounterKey) => `${k.entityType}:${k.name}:${k.entityId}`;
