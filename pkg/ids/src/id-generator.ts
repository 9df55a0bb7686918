/**
 * Mints 53-bit ids (see id-layout.ts) for one leased worker id.
 */
import { performance } from "node:perf_hooks";
import { ID_EPOCH_MS, MAX_TIME, SEQUENCE_SIZE, composeId } from "./id-layout.js";

/**
 * How far the wall clock may step back before `next()` throws instead of
 * waiting. `next()` is synchronous, so a wait blocks the event loop: keep it short.
 */
export const DEFAULT_MAX_CLOCK_BACKWARD_MS = 10;

/** What a generator needs from its worker lease. */
export interface WorkerIdSource {
  readonly workerId: number;
  /** False once the worker id may belong to someone else; the generator then refuses to mint. */
  isHeld(): boolean;
  /** Unix ms the previous holder of this worker id minted up to; ids must start after it. */
  readonly notBeforeMs: number;
  /** Called when the generator moves to a new millisecond (kept for the next holder). */
  noteMinted(unixMs: number): void;
}

export interface IdGeneratorOptions {
  /** Wall clock, Unix ms (tests inject one). */
  readonly clock?: () => number;
  /** Blocks for `ms` milliseconds (tests inject one that advances their clock). */
  readonly sleep?: (ms: number) => void;
  readonly maxClockBackwardMs?: number;
}

/** The worker id's lease is gone: another instance may own the id now. */
export class WorkerLeaseLostError extends Error {
  constructor(workerId: number) {
    super(`worker id ${workerId} is no longer leased; refusing to mint ids that could collide`);
    this.name = "WorkerLeaseLostError";
  }
}

/** The clock stepped back further than the generator will wait. */
export class ClockMovedBackwardsError extends Error {
  constructor(readonly behindMs: number) {
    super(`the clock is ${behindMs} ms behind the last id minted; refusing to mint duplicates`);
    this.name = "ClockMovedBackwardsError";
  }
}

/** How long a wall clock that does not advance at all is tolerated before `next()` throws. */
const STALLED_CLOCK_LIMIT_MS = 1_000;

const sleeper = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
/** A synchronous sleep that does not burn CPU. */
function blockFor(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Generates ids for one worker. Ids are strictly increasing. When the 128 ids
 * of a millisecond are used up, `next()` spins until the next millisecond; when
 * the clock steps back by up to `maxClockBackwardMs`, it waits for the clock to
 * catch up, and beyond that it throws {@link ClockMovedBackwardsError}.
 */
export class IdGenerator {
  readonly workerId: number;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => void;
  private readonly maxBackwardMs: number;
  /** Ms since the id epoch of the last id (or of the previous holder's last). */
  private lastTime: number;
  private sequence: number;

  constructor(
    private readonly lease: WorkerIdSource,
    opts: IdGeneratorOptions = {},
  ) {
    this.workerId = lease.workerId;
    composeId(0, lease.workerId, 0); // validates the worker id
    this.clock = opts.clock ?? Date.now;
    this.sleep = opts.sleep ?? blockFor;
    this.maxBackwardMs = opts.maxClockBackwardMs ?? DEFAULT_MAX_CLOCK_BACKWARD_MS;
    // As if the previous holder's last millisecond were used up, so the
    // first id is in a later millisecond than anything it minted.
    this.lastTime = lease.notBeforeMs - ID_EPOCH_MS;
    this.sequence = SEQUENCE_SIZE - 1;
  }

  /**
   * The next id.
   *
   * @throws WorkerLeaseLostError once the lease is lost or released,
   *   ClockMovedBackwardsError if the clock went back too far.
   */
  next(): number {
    if (!this.lease.isHeld()) throw new WorkerLeaseLostError(this.workerId);
    let time = this.clock() - ID_EPOCH_MS;
    if (time < this.lastTime) time = this.waitForClock(this.lastTime);
    if (time === this.lastTime) {
      this.sequence++;
      if (this.sequence === SEQUENCE_SIZE) {
        time = this.spinPast(this.lastTime);
        this.sequence = 0;
      }
    } else {
      this.sequence = 0;
    }
    if (time !== this.lastTime) {
      if (time > MAX_TIME) throw new RangeError("the id clock has run out of time bits (year 2060)");
      this.lastTime = time;
      this.lease.noteMinted(time + ID_EPOCH_MS);
    }
    return composeId(time, this.workerId, this.sequence);
  }

  /** Waits at most `maxClockBackwardMs` in all for the clock to reach `target`; returns the time then. */
  private waitForClock(target: number): number {
    let time = this.clock() - ID_EPOCH_MS;
    let waited = 0;
    while (time < target) {
      const behind = target - time;
      if (behind > this.maxBackwardMs || waited >= this.maxBackwardMs) throw new ClockMovedBackwardsError(behind);
      this.sleep(behind);
      waited += behind;
      time = this.clock() - ID_EPOCH_MS;
    }
    return time;
  }

  /** Busy-waits (normally under 1 ms) for the clock to pass `time`. */
  private spinPast(time: number): number {
    // A clock that stands still must not hang the process: give up after a bound.
    const giveUpAt = performance.now() + STALLED_CLOCK_LIMIT_MS;
    for (;;) {
      let now = this.clock() - ID_EPOCH_MS;
      // A step back while spinning gets the same bounded wait as anywhere else.
      if (now < time) now = this.waitForClock(time);
      if (now > time) return now;
      // Checked only after reading the clock: a GC pause must not look like a stalled clock.
      if (performance.now() > giveUpAt) {
        throw new Error(`the clock did not advance past ${time + ID_EPOCH_MS} within ${STALLED_CLOCK_LIMIT_MS} ms`);
      }
    }
  }
}
