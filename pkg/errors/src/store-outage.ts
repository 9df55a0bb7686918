/**
 * Store outages: a MySQL shard, Redis or Kafka that cannot be reached (or
 * answers too late, or is full) is a retryable condition, not a bug. The gRPC
 * server helper answers them UNAVAILABLE for every service (see `toStatus`),
 * without their text; anything else unknown stays INTERNAL.
 *
 * Recognised by shape only (code, name, message), so this package depends on
 * none of the store clients.
 */

/**
 * mysql2 / Node socket codes of an unreachable, lost or overloaded database
 * connection. `ETIMEDOUT` is also the code of `@rs/mysql`'s MysqlTimeoutError
 * (a pooled call past its acquire or statement deadline).
 */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
]);

/**
 * Error names of the same conditions: `@rs/mysql`'s deadline error, ioredis
 * giving up on a command, KafkaJS without a reachable broker, and `@rs/kafka`'s
 * producer queue at its bound.
 */
const OUTAGE_NAMES = new Set([
  "MysqlTimeoutError",
  "MaxRetriesPerRequestError",
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNumberOfRetriesExceeded",
  "ProducerBackpressureError",
]);

/**
 * Messages: ioredis with no connection and no offline queue (it fails at once),
 * a command that timed out, a closed connection, retries exhausted; Redis at
 * maxmemory with nothing left to evict; mysql2's pool wait queue at its limit.
 */
const OUTAGE_MESSAGES =
  /Stream isn't writeable|Connection is closed|Command timed out|connect ECONNREFUSED|Reached the max retries per request limit|MaxRetriesPerRequest|^OOM command not allowed|^Queue limit reached/i;

/** True when `err` says a backing store (MySQL, Redis, Kafka) is unreachable, too slow or full. */
export function isStoreOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && CONNECTION_CODES.has(code)) return true;
  if (OUTAGE_NAMES.has(err.name)) return true;
  return OUTAGE_MESSAGES.test(err.message);
}

/** The text a client gets for a store outage (the error's own text may name hosts). */
export const STORE_OUTAGE_DETAILS = "a backing store is unavailable; retry";
