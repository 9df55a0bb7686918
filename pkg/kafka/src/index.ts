/**
 * Kafka for the suite (KafkaJS): a client that logs through pino, an
 * idempotent acks=all producer that resolves only on the broker's ack and
 * carries the trace context in headers, a batch consumer that commits only
 * what its handler finished, and consumer-lag metrics.
 */
export { createKafka, pinoLogCreator, type KafkaClientOptions, DEFAULT_CONNECTION_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from "./kafka-client.js";
export {
  createIdempotentProducer,
  ProducerBackpressureError,
  type IdempotentProducer,
  type IdempotentProducerOptions,
  type ProducerMessage,
  type SendOptions,
  DEFAULT_PRODUCER_RETRIES,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_MAX_QUEUED_MESSAGES,
  DEFAULT_MAX_BATCH_MESSAGES,
  DEFAULT_MAX_BATCH_BYTES,
} from "./idempotent-producer.js";
export {
  runBatchConsumer,
  BatchTimeoutError,
  type BatchConsumer,
  type BatchConsumerOptions,
  type BatchControl,
  type ConsumedBatch,
  DEFAULT_SESSION_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_BYTES_PER_PARTITION,
  DEFAULT_MAX_WAIT_TIME_MS,
  DEFAULT_BATCH_TIMEOUT_MS,
  DEFAULT_UNREADY_AFTER_FAILURES,
} from "./batch-consumer.js";
export {
  readConsumerLag,
  consumerLagGauge,
  startLagPoller,
  type PartitionLag,
  type LagPoller,
  type LagPollerOptions,
  DEFAULT_LAG_INTERVAL_MS,
  DEFAULT_LAG_TIMEOUT_MS,
} from "./consumer-lag.js";
export { injectTraceContext, extractTraceContext, kafkaHeadersGetter } from "./trace-headers.js";
export { requestIdHeaders, requestIdsOfHeaders, requestIdsOfBatch, MAX_BATCH_REQUEST_IDS } from "./request-headers.js";
export type { Kafka, KafkaMessage, IHeaders } from "kafkajs";
