/**
 * The one codec of `count.changed` records: the relation-persister encodes
 * with it, count-consumer and user-consumer decode with it. A record carries
 * one `count.v1.CountChanged`, or, when its {@link COUNT_CHANGED_SCHEMA_HEADER}
 * header says {@link COUNT_CHANGED_BATCH_SCHEMA}, a `count.v1.CountChangedBatch`
 * of up to {@link MAX_CHANGES_PER_RECORD} of them (the persister's form: the
 * cost of a record in KafkaJS and the broker is paid once for many changes).
 * A decoded change has passed the contract's checks: a positive user id, one
 * of {@link COUNT_NAMES}, a count (never negative) and a positive version. A
 * change that fails them is a producer defect: it is refused with the reason,
 * never clamped (a clamped count would overwrite a good one with a made-up
 * value at a newer version).
 */
import { CountChanged, CountChangedBatch } from "../gen/count/v1/count.js";

/** The record header that names what a count.changed record's value is. */
export const COUNT_CHANGED_SCHEMA_HEADER = "rs-schema";
/** Its value for a record carrying a `count.v1.CountChangedBatch`; a record without the header carries one `count.v1.CountChanged`. */
export const COUNT_CHANGED_BATCH_SCHEMA = "count.v1.CountChangedBatch";
/** Most changes in one record (~20–30 bytes each). */
export const MAX_CHANGES_PER_RECORD = 500;

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

/** Several changes as the value of one record (send it with the batch schema header, {@link countChangedBatchHeaders}). */
export function encodeCountChangedBatch(changes: readonly CountChangedRecord[]): Buffer {
  if (changes.length === 0 || changes.length > MAX_CHANGES_PER_RECORD) {
    throw new RangeError(`a count.changed record carries 1 to ${MAX_CHANGES_PER_RECORD} changes, got ${changes.length}`);
  }
  const changesOut = changes.map((c) => ({ userId: c.userId, name: c.name, value: c.value, version: c.version }));
  return Buffer.from(CountChangedBatch.encode({ changes: changesOut }).finish());
}

/** The headers that mark a record encoded by {@link encodeCountChangedBatch}. */
export const countChangedBatchHeaders = (): Record<string, string> => ({ [COUNT_CHANGED_SCHEMA_HEADER]: COUNT_CHANGED_BATCH_SCHEMA });

/** The contract's checks of one decoded change. */
function checked(c: CountChanged): CountChangedDecoding {
  const bad = (reason: string): CountChangedDecoding => ({ ok: false, reason });
  if (!Number.isSafeInteger(c.userId) || c.userId <= 0) return bad("user_id is not a positive id");
  if (!isCountName(c.name)) return bad(`unknown counter "${c.name.slice(0, 32)}"`);
  if (!Number.isSafeInteger(c.value) || c.value < 0) return bad(`value ${c.value} is not a count (negative or too large)`);
  if (!Number.isSafeInteger(c.version) || c.version <= 0) return bad("version is not positive");
  return { ok: true, change: { userId: c.userId, name: c.name, value: c.value, version: c.version } };
}

/** Decodes and checks the value of a record carrying one change; never throws. */
export function decodeCountChanged(value: Uint8Array | null | undefined): CountChangedDecoding {
  if (!value || value.length === 0) return { ok: false, reason: "empty record" };
  try {
    return checked(CountChanged.decode(value));
  } catch (err) {
    return { ok: false, reason: `not a CountChanged: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** What one record holds: the changes that passed the checks, and a reason for each that did not. */
export interface CountChangedRecordDecoding {
  readonly changes: CountChangedRecord[];
  readonly refused: string[];
}

/**
 * Decodes and checks one record, a single change or (its schema header
 * naming it) a batch; never throws. A batch's changes are checked one by one:
 * a bad one is refused, the others kept.
 */
export function decodeCountChangedRecord(value: Uint8Array | null | undefined, schema: string | undefined): CountChangedRecordDecoding {
  if (schema === undefined || schema === "") {
    const d = decodeCountChanged(value);
    return d.ok ? { changes: [d.change], refused: [] } : { changes: [], refused: [d.reason] };
  }
  if (schema !== COUNT_CHANGED_BATCH_SCHEMA) return { changes: [], refused: [`unknown schema "${schema.slice(0, 64)}"`] };
  if (!value || value.length === 0) return { changes: [], refused: ["empty record"] };
  let batch: CountChangedBatch;
  try {
    batch = CountChangedBatch.decode(value);
  } catch (err) {
    return { changes: [], refused: [`not a CountChangedBatch: ${err instanceof Error ? err.message : String(err)}`] };
  }
  if (batch.changes.length === 0) return { changes: [], refused: ["a CountChangedBatch without changes"] };
  const out: CountChangedRecordDecoding = { changes: [], refused: [] };
  batch.changes.forEach((c, i) => {
    const d = checked(c);
    if (d.ok) out.changes.push(d.change);
    else out.refused.push(`change ${i}: ${d.reason}`);
  });
  return out;
}

/** A record's headers as a Kafka client hands them over (KafkaJS's IHeaders). */
type RecordHeaders = Readonly<Record<string, Uint8Array | string | readonly (Uint8Array | string)[] | undefined>>;

/** {@link decodeCountChangedRecord} of a consumed record, its schema read from its headers. */
export function decodeCountChangedMessage(m: { readonly value: Uint8Array | null | undefined; readonly headers?: RecordHeaders }): CountChangedRecordDecoding {
  const h = m.headers?.[COUNT_CHANGED_SCHEMA_HEADER];
  const first = Array.isArray(h) ? h[0] : h;
  const schema = first === undefined ? undefined : typeof first === "string" ? first : Buffer.from(first).toString("utf8");
  return decodeCountChangedRecord(m.value, schema);
}
