/**
 * The one codec of `count.changed` records (`count.v1.CountChanged`): the
 * relation-persister encodes with it, count-consumer and user-consumer decode
 * with it. A decoded record has passed the contract's checks: a positive user
 * id, one of {@link COUNT_NAMES}, a count (never negative) and a positive
 * version. A record that fails them is a producer defect: it is refused with
 * the reason, never clamped (a clamped count would overwrite a good one with
 * a made-up value at a newer version).
 */
import { CountChanged } from "../gen/count/v1/count.js";

/** The counters count.changed carries (count.proto: `name`). */
export const COUNT_NAMES = ["following", "follower"] as const;
export type CountName = (typeof COUNT_NAMES)[number];

export const isCountName = (name: string): name is CountName => (COUNT_NAMES as readonly string[]).includes(name);

/** One user's count, as an absolute value with its version. */
export interface CountChangedRecord {
  readonly userId: number;
  readonly name: CountName;
  readonly value: number;
  readonly version: number;
}

export type CountChangedDecoding = { readonly ok: true; readonly change: CountChangedRecord } | { readonly ok: false; readonly reason: string };

export function encodeCountChanged(c: CountChangedRecord): Buffer {
  return Buffer.from(CountChanged.encode({ userId: c.userId, name: c.name, value: c.value, version: c.version }).finish());
}

/** Decodes and checks one record value; never throws. */
export function decodeCountChanged(value: Uint8Array | null | undefined): CountChangedDecoding {
  const bad = (reason: string): CountChangedDecoding => ({ ok: false, reason });
  if (!value || value.length === 0) return bad("empty record");
  let c: CountChanged;
  try {
    c = CountChanged.decode(value);
  } catch (err) {
    return bad(`not a CountChanged: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Number.isSafeInteger(c.userId) || c.userId <= 0) return bad("user_id is not a positive id");
  if (!isCountName(c.name)) return bad(`unknown counter "${c.name.slice(0, 32)}"`);
  if (!Number.isSafeInteger(c.value) || c.value < 0) return bad(`value ${c.value} is not a count (negative or too large)`);
  if (!Number.isSafeInteger(c.version) || c.version <= 0) return bad("version is not positive");
  return { ok: true, change: { userId: c.userId, name: c.name, value: c.value, version: c.version } };
}
