/**
 * count.changed records as count changes. The wire contract and its checks
 * are @rs/idl's (`decodeCountChanged`); this adds the record's offset to a
 * refusal. A record that cannot be read is reported, not thrown: redelivering
 * it would fail the same way forever and stall its partition.
 */
import { decodeCountChanged as decodeWire } from "@rs/idl";
import type { KafkaMessage } from "@rs/kafka";
import type { CountChange } from "../../domain/profile.js";

export type DecodedRecord = { readonly ok: true; readonly change: CountChange } | { readonly ok: false; readonly offset: string; readonly reason: string };

export function decodeCountChanged(message: Pick<KafkaMessage, "value" | "offset">): DecodedRecord {
  const d = decodeWire(message.value);
  return d.ok ? d : { ok: false, offset: message.offset, reason: d.reason };
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
