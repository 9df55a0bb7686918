/**
 * count.changed records as counter changes of users. The wire contract and
 * its checks are @rs/idl's (`decodeCountChangedMessage`: one change, or a
 * batch of them); this only names the counter in the count store's terms. A
 * change that cannot be read is reported and skipped (it would fail forever).
 */
import { decodeCountChangedMessage } from "@rs/idl";
import type { KafkaMessage } from "@rs/kafka";
import { USER_ENTITY, type CounterChange } from "../../domain/counter-key.js";

/** What one record holds: its readable changes, and why each of the others was refused. */
export interface DecodedCountChanged {
  readonly changes: CounterChange[];
  readonly refused: readonly { readonly offset: string; readonly reason: string }[];
}

export function decodeCountChanged(m: Pick<KafkaMessage, "value" | "offset" | "headers">): DecodedCountChanged {
  const d = decodeCountChangedMessage(m);
  return {
    changes: d.changes.map(({ userId, name, value, version }) => ({ key: { entityType: USER_ENTITY, entityId: userId, name }, value, version })),
    refused: d.refused.map((reason) => ({ offset: m.offset, reason })),
  };
}
