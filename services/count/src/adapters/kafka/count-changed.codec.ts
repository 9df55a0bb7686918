/**
 * Decoding `count.v1.CountChanged` records into counter changes of users.
 * An unreadable record is reported and skipped (it would fail forever).
 */
import { countV1 } from "@rs/idl";
import type { KafkaMessage } from "@rs/kafka";
import { isEntityId, isIdent, USER_ENTITY, type CounterChange } from "../../domain/counter-key.js";

export type DecodedCountChanged = { readonly ok: true; readonly change: CounterChange } | { readonly ok: false; readonly offset: string; readonly reason: string };

export function decodeCountChanged(m: Pick<KafkaMessage, "value" | "offset">): DecodedCountChanged {
  if (!m.value || m.value.length === 0) return { ok: false, offset: m.offset, reason: "empty record" };
  let c: countV1.CountChanged;
  try {
    c = countV1.CountChanged.decode(m.value);
  } catch {
    return { ok: false, offset: m.offset, reason: "not a CountChanged" };
  }
  if (!isEntityId(c.userId)) return { ok: false, offset: m.offset, reason: "user id out of range" };
  if (!isIdent(c.name)) return { ok: false, offset: m.offset, reason: "counter name invalid" };
  if (!Number.isSafeInteger(c.value) || !Number.isSafeInteger(c.version) || c.version <= 0) return { ok: false, offset: m.offset, reason: "value or version out of range" };
  return { ok: true, change: { key: { entityType: USER_ENTITY, entityId: c.userId, name: c.name }, value: c.value, version: c.version } };
}
