/**
 * The 53-bit id layout. Every id is a non-negative safe JS integer, so it
 * survives JSON in every client:
 *
 *     bit 52 ............ 13 | 12 ..... 7 | 6 ...... 0
 *     time: 40 bits          | worker: 6  | sequence: 7
 *
 * - time: milliseconds since {@link ID_EPOCH_MS} (2026-01-01T00:00:00Z);
 *   2^40 ms ≈ 34.8 years, so ids run out in 2060-11.
 * - worker: 0-63, leased from etcd so no two live generators share one.
 * - sequence: 0-127 within one millisecond of one worker, so one worker mints
 *   at most 128 000 ids/s (it waits for the next millisecond beyond that).
 *
 * The id is `time * 2^13 + worker * 2^7 + sequence`. Ids of one worker are
 * strictly increasing; ids of all workers are roughly time-ordered (k-sorted).
 * Arithmetic, not bitwise operators: JS bit operations truncate to 32 bits.
 */

/** 2026-01-01T00:00:00Z: time zero of the id clock. */
export const ID_EPOCH_MS = Date.UTC(2026, 0, 1);
export const TIME_BITS = 40;
export const WORKER_BITS = 6;
export const SEQUENCE_BITS = 7;

/** Number of distinct worker ids (64). */
export const MAX_WORKERS = 2 ** WORKER_BITS;
/** Ids one worker can mint in one millisecond (128). */
export const SEQUENCE_SIZE = 2 ** SEQUENCE_BITS;
/** The largest time field, in ms since the epoch. */
export const MAX_TIME = 2 ** TIME_BITS - 1;

const TIME_SHIFT = 2 ** (WORKER_BITS + SEQUENCE_BITS);
const WORKER_SHIFT = 2 ** SEQUENCE_BITS;

/** The parts of an id. */
export interface DecodedId {
  /** When it was minted, Unix ms. */
  readonly timestampMs: number;
  readonly workerId: number;
  readonly sequence: number;
}

/** Builds an id from its parts; `timeMs` counts from {@link ID_EPOCH_MS}. */
export function composeId(timeMs: number, workerId: number, sequence: number): number {
  if (!Number.isSafeInteger(timeMs) || timeMs < 0 || timeMs > MAX_TIME) throw new RangeError(`id time ${timeMs} out of range 0-${MAX_TIME}`);
  if (!Number.isInteger(workerId) || workerId < 0 || workerId >= MAX_WORKERS) throw new RangeError(`worker id ${workerId} out of range 0-${MAX_WORKERS - 1}`);
  if (!Number.isInteger(sequence) || sequence < 0 || sequence >= SEQUENCE_SIZE)
    throw new RangeError(`sequence ${sequence} out of range 0-${SEQUENCE_SIZE - 1}`);
  return timeMs * TIME_SHIFT + workerId * WORKER_SHIFT + sequence;
}

/** Splits an id into its time (Unix ms), worker id and sequence. */
export function decodeId(id: number): DecodedId {
  if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`not an id (a non-negative safe integer): ${id}`);
  const low = id % TIME_SHIFT;
  return {
    timestampMs: ID_EPOCH_MS + Math.floor(id / TIME_SHIFT),
    workerId: Math.floor(low / WORKER_SHIFT),
    sequence: low % WORKER_SHIFT,
  };
}
