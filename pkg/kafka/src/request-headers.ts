/**
 * Request ids in Kafka records (see @rs/logger's request context): a producer
 * names the request(s) a record comes from in its `x-request-id` header (one
 * id, or a comma-separated list for a record that folds several), and a batch
 * consumer handles each batch inside the ids of its records, so every line the
 * handler logs names them, and one line per handled batch lists them.
 */
import type { IHeaders, KafkaMessage } from "kafkajs";
import { REQUEST_ID_HEADER, currentRequestIds, distinctRequestIds, formatRequestIds, parseRequestIds, withRequestIds, type Logger } from "@rs/logger";
import type { BatchControl, ConsumedBatch } from "./batch-consumer.js";

/** Most ids a batch's log lines list (a batch of records from that many requests or more is cut there). */
export const MAX_BATCH_REQUEST_IDS = 256;

/** The header naming `ids` (default: the current request's), or no header when there are none. */
export function requestIdHeaders(ids: readonly string[] = currentRequestIds()): Record<string, string> {
  const value = formatRequestIds(ids);
  return value === undefined ? {} : { [REQUEST_ID_HEADER]: value };
}

/** The request ids a record's headers name. */
export const requestIdsOfHeaders = (headers: IHeaders | undefined): string[] => parseRequestIds(headers?.[REQUEST_ID_HEADER]);

/** The distinct request ids of a batch's records, in offset order. */
export const requestIdsOfBatch = (messages: readonly Pick<KafkaMessage, "headers">[]): string[] =>
  distinctRequestIds(
    messages.flatMap((m) => requestIdsOfHeaders(m.headers)),
    MAX_BATCH_REQUEST_IDS,
  );

type BatchHandler = (batch: ConsumedBatch, ctl: BatchControl) => Promise<void>;

/** `handle` run inside the batch's request ids, logging one line per batch it finished. */
export function handleInRequestContext(handle: BatchHandler, log: Logger): BatchHandler {
  return (batch, ctl) =>
    withRequestIds(requestIdsOfBatch(batch.messages), async () => {
      const started = Date.now();
      await handle(batch, ctl);
      const { topic, partition, messages } = batch;
      log.info(
        { topic, partition, count: messages.length, firstOffset: messages[0]?.offset, lastOffset: messages.at(-1)?.offset, ms: Date.now() - started },
        "batch handled",
      );
    });
}
