/**
 * count.changed records as count changes. The wire contract and its checks
 * are @rs/idl's (`decodeCountChangedMessage`: one change, or a batch of
 * them); this adds the record's offset to a refusal. A change that cannot be
 * read is reported, not thrown: redelivering it would fail the same way
 * forever and stall its partition.
 */
import { decodeCountChangedMessage } from "@rs/idl";
import type { KafkaMessage } from "@rs/kafka";
import type { CountChange } from "../../domain/profile.js";

/** What one record holds: its readable changes, and why each of the others was refused. */
export interface DecodedRecord {
  readonly changes: CountChange[];
  readonly refused: readonly { readonly offset: string; readonly reason: string }[];
}

export function decodeCountChanged(message: Pick<KafkaMessage, "value" | "offset" | "headers">): DecodedRecord {
  const d = decodeCountChangedMessage(message);
  return { changes: d.changes, refused: d.refused.map((reason) => ({ offset: message.offset, reason })) };
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
