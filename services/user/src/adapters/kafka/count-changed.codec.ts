/**
 * count.changed records (count.v1.CountChanged, protobuf) as count changes.
 * A record that cannot be read is reported, not thrown: redelivering it would
 * fail the same way forever and stall its partition.
 */
import { countV1 } from "@rs/idl";
import type { KafkaMessage } from "@rs/kafka";
import { isCountName, type CountChange } from "../../domain/profile.js";

export type DecodedRecord = { readonly ok: true; readonly change: CountChange } | { readonly ok: false; readonly offset: string; readonly reason: string };

export function decodeCountChanged(message: KafkaMessage): DecodedRecord {
  const bad = (reason: string): DecodedRecord => ({ ok: false, offset: message.offset, reason });
  if (!message.value) return bad("empty value");
  let event: countV1.CountChanged;
  try {
    event = countV1.CountChanged.decode(message.value);
  } catch (err) {
    return bad(`not a CountChanged: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isCountName(event.name)) return bad(`unknown counter "${event.name.slice(0, 32)}"`);
  if (!Number.isSafeInteger(event.userId) || event.userId <= 0) return bad("user_id is not a positive id");
  if (!Number.isSafeInteger(event.value) || event.value < 0) return bad("value is not a count");
  if (!Number.isSafeInteger(event.version) || event.version <= 0) return bad("version is not positive");
  return { ok: true, change: { userId: event.userId, name: event.name, value: event.value, version: event.version } };
}

/** Of several changes of one counter, only the newest version matters (values are absolute). */
export function newestPerCounter(changes: readonly CountChange[]): CountChange[] {
  const newest = new Map<string, CountChange>();
  for (const c of changes) {
    const key = `${c.userId}:${c.name}`;
    const seen = newest.get(key);
    if (!seen || c.version > seen.version) newest.set(key, c);
  }
  return [...newest.values()];
}
