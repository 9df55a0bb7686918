import { Kafka, logLevel, type LogEntry, type logCreator, type RetryOptions } from "kafkajs";
import type { Logger } from "@rs/logger";

/** Longest wait for a TCP connection to a broker. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 3_000;
/**
 * Longest wait for any broker response. KafkaJS's 30 s default would let a
 * hung broker stall a follow request far beyond any client's deadline.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /**
   * Retries of the client's own broker requests (connects, metadata), under
   * every producer and consumer retry. KafkaJS's default takes ~10 s to give up
   * on an unreachable broker; a caller that must answer within a deadline
   * bounds it here.
   */
  readonly retry?: RetryOptions;
}

type PinoMethod = "error" | "warn" | "info" | "debug";

const PINO_METHOD: Partial<Record<logLevel, PinoMethod>> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/**
 * KafkaJS warnings about choices this package makes on purpose, logged at
 * info so they do not read as a fault on every start.
 */
const DELIBERATE_WARNINGS = [
  // Bounded producer retries: a follow must be answered within its deadline;
  // an unacknowledged publish is undone upstream rather than retried forever.
  "Limiting retries for the idempotent producer may invalidate EoS guarantees",
];

/** KafkaJS's level for a pino level, so KafkaJS does not build entries pino drops. */
function kafkaLevel(pinoLevel: string): logLevel {
  switch (pinoLevel) {
    case "trace":
    case "debug":
      return logLevel.DEBUG;
    case "info":
      return logLevel.INFO;
    case "warn":
      return logLevel.WARN;
    case "error":
    case "fatal":
      return logLevel.ERROR;
    default:
      return logLevel.NOTHING;
  }
}

/** A KafkaJS `logCreator` that writes every entry through `logger` (pino). */
export function pinoLogCreator(logger: Logger): logCreator {
  const log = logger.child({ component: "kafkajs" });
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      // `timestamp` and `logger` duplicate what pino adds itself.
      const { message, timestamp: _timestamp, logger: _logger, ...extra } = entry;
      const method = DELIBERATE_WARNINGS.includes(message) ? "info" : PINO_METHOD[level];
      if (method) log[method]({ namespace, ...extra }, message);
    };
}

/** Creates the KafkaJS client of a process, logging through pino. */
export function createKafka(opts: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: opts.clientId,
    brokers: [...opts.brokers],
    connectionTimeout: opts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    requestTimeout: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    ...(opts.retry ? { retry: opts.retry } : {}),
    logLevel: kafkaLevel(opts.logger.level),
    logCreator: pinoLogCreator(opts.logger),
  });
}
