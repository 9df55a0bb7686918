/**
 * Follow/unfollow transitions and their compact text forms.
 *
 * A transition is one real change of one edge A→B. Each gets a version from A's
 * counter (strictly increasing per A); Kafka carries it, the persister applies it
 * only where it is newer than the stored row, and Redis keeps it in A's pending
 * overlay until the persister has written it. The text forms below are shared
 * with the Lua scripts in `adapters/redis/lua/`, which write and parse the very
 * same layout; keep both sides in step.
 */

export type RelationAction = "follow" | "unfollow";

/** One real change of an edge: what gets published on `relation.events`. */
export interface RelationTransition {
  readonly from: number;
  readonly to: number;
  readonly action: RelationAction;
  /** Monotonic per `from`; orders every transition of the user. */
  readonly version: number;
  /**
   * Unix ms. For a follow, the time the edge is listed under (its follow time);
   * for an unfollow, when it happened.
   */
  readonly occurredAtMs: number;
  /** App surface the follow came from; carried unchanged by unfollows and undos. */
  readonly source: number;
}

/** A transition of A not yet persisted: one per followee, the newest one. */
export interface PendingEntry {
  readonly to: number;
  readonly action: RelationAction;
  readonly version: number;
  readonly timeMs: number;
  readonly source: number;
  /**
   * For an unfollow: the follow time of the edge it ended (0 if unknown), so an
   * undo can restore the edge at its old place in the list.
   */
  readonly prevTimeMs: number;
}

/** A stored text that does not have the layout this module writes. */
export class MalformedRecordError extends Error {
  constructor(kind: string, text: string) {
    super(`malformed ${kind}: ${JSON.stringify(text.slice(0, 80))}`);
    this.name = "MalformedRecordError";
  }
}

const ACTION_CODE: Record<RelationAction, string> = { follow: "f", unfollow: "u" };
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const PENDING_RE = /^([fu])\|(\d+)\|(\d+)\|(-?\d+)\|(\d+)$/;
const EVENT_RE = /^(\d+)\|(\d+)\|([fu])\|(\d+)\|(\d+)\|(-?\d+)$/;

export const oppositeAction = (a: RelationAction): RelationAction => (a === "follow" ? "unfollow" : "follow");
export const actionCode = (a: RelationAction): string => ACTION_CODE[a];
export const actionFromCode = (code: string): RelationAction => (code === "f" ? "follow" : "unfollow");

/** True for ids the graph can hold: positive integers below 2^53. */
export const isUserId = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 0;
/** True for a `source` value (proto int32). */
export const isSource = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX;

function safeInt(text: string, kind: string, whole: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new MalformedRecordError(kind, whole);
  return n;
}

/** `action|version|timeMs|source|prevTimeMs`, the value of a pending-overlay field (field = followee id). */
export function encodePending(e: Omit<PendingEntry, "to">): string {
  return `${ACTION_CODE[e.action]}|${e.version}|${e.timeMs}|${e.source}|${e.prevTimeMs}`;
}

export function decodePending(to: number, text: string): PendingEntry {
  const m = PENDING_RE.exec(text);
  if (!m) throw new MalformedRecordError("pending entry", text);
  return {
    to,
    action: actionFromCode(m[1]!),
    version: safeInt(m[2]!, "pending entry", text),
    timeMs: safeInt(m[3]!, "pending entry", text),
    source: safeInt(m[4]!, "pending entry", text),
    prevTimeMs: safeInt(m[5]!, "pending entry", text),
  };
}

/** `from|to|action|version|occurredAtMs|source`, an outbox entry. */
export function encodeTransition(t: RelationTransition): string {
  return `${t.from}|${t.to}|${ACTION_CODE[t.action]}|${t.version}|${t.occurredAtMs}|${t.source}`;
}

export function decodeTransition(text: string): RelationTransition {
  const m = EVENT_RE.exec(text);
  if (!m) throw new MalformedRecordError("transition", text);
  return {
    from: safeInt(m[1]!, "transition", text),
    to: safeInt(m[2]!, "transition", text),
    action: actionFromCode(m[3]!),
    version: safeInt(m[4]!, "transition", text),
    occurredAtMs: safeInt(m[5]!, "transition", text),
    source: safeInt(m[6]!, "transition", text),
  };
}
