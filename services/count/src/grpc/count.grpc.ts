/**
 * The count.v1 handlers: validate, call the read use case, encode. No Redis
 * or SQL here.
 */
import { invalidArgument } from "@rs/errors";
import { assertDecoded, unary } from "@rs/grpc";
import { BATCH_GET_COUNTS_MAX, type countV1 } from "@rs/idl";
import { assertCounterKey, isEntityId, type CounterKey } from "../domain/counter-key.js";
import type { CountReadsService } from "../domain/count-reads.service.js";

function userId(field: string, v: number): number {
  if (!isEntityId(v)) throw invalidArgument(`${field} must be a positive integer below 2^53`);
  return v;
}

function batch<T>(field: string, items: readonly T[]): readonly T[] {
  if (items.length === 0) throw invalidArgument(`${field} must not be empty`);
  if (items.length > BATCH_GET_COUNTS_MAX) throw invalidArgument(`${field} takes at most ${BATCH_GET_COUNTS_MAX} entries, got ${items.length}`);
  return items;
}

function counterKey(k: countV1.CounterKey | undefined, where: string): CounterKey {
  const key = k && { entityType: k.entityType, entityId: k.entityId, name: k.name };
  assertCounterKey(key, where);
  return key;
}

/** The count.v1.CountService implementation. */
export function countHandlers(reads: CountReadsService): countV1.CountServiceServer {
  return {
    getCounts: unary(async (req) => {
      assertDecoded(req);
      const [counts] = await reads.getUserCounts([userId("user_id", req.userId)]);
      return { counts };
    }),
    batchGetCounts: unary(async (req) => {
      assertDecoded(req);
      const ids = batch("user_ids", req.userIds).map((id, i) => userId(`user_ids[${i}]`, id));
      return { counts: await reads.getUserCounts(ids) };
    }),
    getCounter: unary(async (req) => {
      assertDecoded(req);
      const [value] = await reads.getCounters([counterKey(req.key, "key")]);
      return { value: value ?? 0 };
    }),
    batchGetCounters: unary(async (req) => {
      assertDecoded(req);
      const keys = batch("keys", req.keys).map((k, i) => counterKey(k, `keys[${i}]`));
      return { values: await reads.getCounters(keys) };
    }),
  };
}
