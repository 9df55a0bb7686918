/**
 * Store failures a client should retry elsewhere or later: a shard or Redis
 * that cannot be reached answers UNAVAILABLE, not INTERNAL. Anything else
 * unknown stays INTERNAL (the gRPC adapter logs it and hides its text).
 */
import { isStatusError, unavailable } from "@rs/errors";

/** mysql2 / Node socket error codes meaning "could not talk to the database". */
const MYSQL_UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
]);

/** ioredis messages of a client that has no usable connection (no offline queue: it fails at once), or of a Redis at maxmemory with nothing left to evict. */
const REDIS_UNREACHABLE = /Stream isn't writeable|Connection is closed|Command timed out|connect ECONNREFUSED|MaxRetriesPerRequest|^OOM command not allowed/i;
const POOL_QUEUE_FULL = /Queue limit reached/;

/** `err` as UNAVAILABLE when it says a store is unreachable; otherwise unchanged. */
export function classifyStoreError(err: unknown): unknown {
  if (isStatusError(err)) return err;
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && MYSQL_UNREACHABLE_CODES.has(code)) return unavailable("user store unavailable");
  if (POOL_QUEUE_FULL.test(err.message)) return unavailable("user store overloaded");
  if (REDIS_UNREACHABLE.test(err.message) || err.name === "MaxRetriesPerRequestError") return unavailable("user cache unavailable");
  return err;
}
