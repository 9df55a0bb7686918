/**
 * count.changed records as counter changes of users. The wire contract and
 * its checks are @rs/idl's (`decodeCountChanged`); this only names the
 * counter in the count store's terms. An unreadable record is reported and
 * skipped (it would fail forever).
 */
import { decodeCountChanged as decodeWire } from "@rs/idl";
import type { KafkaMessage } from "@rs/kafka";
import { USER_ENTITY, type CounterChange } from "../../domain/counter-key.js";

export type DecodedCountChanged =
  { readonly ok: true; readonly change: CounterChange } | { readonly ok: false; readonly offset: string; readonly reason: string };

export function decodeCountChanged(m: Pick<KafkaMessage, "value" | "offset">): DecodedCountChanged {
  const d = decodeWire(m.value);
  if (!d.ok) return { ok: false, offset: m.offset, reason: d.reason };
  const { userId, name, value, version } = d.change;
  return { ok: true, change: { key: { entityType: USER_ENTITY, entityId: userId, name }, value, version } };
}
