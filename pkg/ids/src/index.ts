/**
 * 53-bit ids: a millisecond clock since 2026-01-01, a worker id leased from
 * etcd, and a per-millisecond sequence (layout in id-layout.ts). Every id is
 * a safe JS integer. See docs/adr/0004-ids-and-sharding.md.
 *
 * ```ts
 * const lease = await leaseWorkerId(etcd, { ttlSeconds: 10, logger });
 * const ids = new IdGenerator(lease);
 * const id = ids.next();
 * lease.onLost(() => lifecycle.stop()); // the generator already refuses to mint
 * await lease.release();                // on shutdown
 * ```
 */
export { ID_EPOCH_MS, TIME_BITS, WORKER_BITS, SEQUENCE_BITS, MAX_WORKERS, SEQUENCE_SIZE, MAX_TIME, composeId, decodeId, type DecodedId } from "./id-layout.js";
export {
  IdGenerator,
  WorkerLeaseLostError,
  ClockMovedBackwardsError,
  DEFAULT_MAX_CLOCK_BACKWARD_MS,
  type IdGeneratorOptions,
  type WorkerIdSource,
} from "./id-generator.js";
export {
  leaseWorkerId,
  NoFreeWorkerIdError,
  DEFAULT_WORKER_PREFIX,
  DEFAULT_SAFETY_MARGIN_MS,
  DEFAULT_MAX_CLOCK_SKEW_WAIT_MS,
  type LeaseWorkerIdOptions,
  type WorkerLease,
} from "./worker-lease.js";
