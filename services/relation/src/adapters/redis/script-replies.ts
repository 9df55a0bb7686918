/**
 * Reading script replies. A reply that does not have the agreed shape means the
 * script and this code disagree (a deploy mix-up), never bad user input, so it
 * throws instead of guessing.
 */
import type { CursorPosition } from "../../domain/cursor.js";

export class UnexpectedReplyError extends Error {
  constructor(script: string, reply: unknown) {
    super(`unexpected reply from ${script}: ${JSON.stringify(reply)?.slice(0, 200)}`);
    this.name = "UnexpectedReplyError";
  }
}

export function replyArray(script: string, reply: unknown): unknown[] {
  if (!Array.isArray(reply) || reply.length === 0) throw new UnexpectedReplyError(script, reply);
  return reply;
}

/** A safe integer from a reply element (Redis integers arrive as numbers, our numbers as strings). */
export function replyInt(script: string, v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new UnexpectedReplyError(script, v);
  return n;
}

export function replyString(script: string, v: unknown): string {
  if (typeof v !== "string") throw new UnexpectedReplyError(script, v);
  return v;
}

/** Reads `{id, score}` pairs from a flat reply starting at `from`. */
export function replyEntries(script: string, flat: readonly unknown[], from: number): CursorPosition[] {
  const out: CursorPosition[] = [];
  for (let i = from; i + 1 < flat.length; i += 2) {
    out.push({ id: replyInt(script, flat[i]), timeMs: replyInt(script, flat[i + 1]) });
  }
  return out;
}
