import { describe, expect, it } from "vitest";
import {
  ClockMovedBackwardsError,
  ID_EPOCH_MS,
  IdGenerator,
  MAX_TIME,
  SEQUENCE_BITS,
  SEQUENCE_SIZE,
  TIME_BITS,
  WORKER_BITS,
  WorkerLeaseLostError,
  composeId,
  decodeId,
  type WorkerIdSource,
} from "../src/index.js";

/** A stand-in for the etcd lease: the generator only needs these four members. */
function fakeLease(workerId: number, notBeforeMs = 0): WorkerIdSource & { held: boolean; minted: number[] } {
  return {
    workerId,
    notBeforeMs,
    held: true,
    minted: [],
    isHeld() {
      return this.held;
    },
    noteMinted(ms) {
      this.minted.push(ms);
    },
  };
}

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

describe("id layout", () => {
  it("uses exactly 53 bits: the largest id is Number.MAX_SAFE_INTEGER", () => {
    expect(TIME_BITS + WORKER_BITS + SEQUENCE_BITS).toBe(53);
    expect(composeId(MAX_TIME, 2 ** WORKER_BITS - 1, SEQUENCE_SIZE - 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(new Date(ID_EPOCH_MS).toISOString()).toBe("2026-01-01T00:00:00.000Z");
    // 2^40 ms after the epoch: the year the time field runs out.
    expect(new Date(ID_EPOCH_MS + MAX_TIME).getUTCFullYear()).toBe(2060);
  });

  it("decodes what it composes", () => {
    for (const [t, w, s] of [
      [0, 0, 0],
      [T0 - ID_EPOCH_MS, 37, 99],
      [MAX_TIME, 63, 127],
    ] as const) {
      expect(decodeId(composeId(t, w, s))).toEqual({ timestampMs: ID_EPOCH_MS + t, workerId: w, sequence: s });
    }
  });

  it("refuses parts out of range and non-ids", () => {
    expect(() => composeId(MAX_TIME + 1, 0, 0)).toThrow(RangeError);
    expect(() => composeId(0, 64, 0)).toThrow(RangeError);
    expect(() => composeId(0, 0, 128)).toThrow(RangeError);
    expect(() => decodeId(-1)).toThrow(RangeError);
    expect(() => decodeId(2 ** 53)).toThrow(RangeError);
  });
});

describe("IdGenerator", () => {
  it("numbers ids within a millisecond, then waits for the next one when 128 are used", () => {
    let reads = 0;
    // The clock moves one millisecond every 200 reads, so the 129th id must wait.
    const clock = () => T0 + Math.floor(reads++ / 200);
    const gen = new IdGenerator(fakeLease(5), { clock });
    const ids = Array.from({ length: SEQUENCE_SIZE + 1 }, () => gen.next());
    const parts = ids.map(decodeId);
    expect(parts.slice(0, SEQUENCE_SIZE).every((p, i) => p.timestampMs === T0 && p.sequence === i && p.workerId === 5)).toBe(true);
    expect(parts[SEQUENCE_SIZE]).toEqual({ timestampMs: T0 + 1, workerId: 5, sequence: 0 });
    for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
  });

  it("waits out a small clock step back and keeps ids increasing", () => {
    let now = T0;
    const slept: number[] = [];
    const gen = new IdGenerator(fakeLease(1), {
      clock: () => now,
      sleep: (ms) => {
        slept.push(ms);
        now += ms;
      },
      maxClockBackwardMs: 10,
    });
    const before = gen.next();
    now -= 5;
    const after = gen.next();
    expect(slept).toEqual([5]);
    expect(after).toBeGreaterThan(before);
  });

  it("throws when the clock steps back further than it will wait, and recovers when the clock does", () => {
    let now = T0;
    const gen = new IdGenerator(fakeLease(1), { clock: () => now, sleep: () => undefined, maxClockBackwardMs: 10 });
    const before = gen.next();
    now -= 1_000;
    expect(() => gen.next()).toThrow(ClockMovedBackwardsError);
    now += 1_001;
    expect(gen.next()).toBeGreaterThan(before);
  });

  it("throws when the clock does not come back within the bound", () => {
    let now = T0;
    // sleep() returns without the clock moving: a clock stuck behind.
    const gen = new IdGenerator(fakeLease(1), { clock: () => now, sleep: () => undefined, maxClockBackwardMs: 10 });
    gen.next();
    now -= 3;
    expect(() => gen.next()).toThrow(ClockMovedBackwardsError);
  });

  it("starts after the previous holder's last millisecond", () => {
    let reads = 0;
    // The previous holder used T0 (maybe all 128 sequences): this clock reads T0 ten times, then T0 + 1.
    const gen = new IdGenerator(fakeLease(2, T0), { clock: () => T0 + Math.floor(reads++ / 10) });
    const first = decodeId(gen.next());
    expect(first.timestampMs).toBe(T0 + 1);
    expect(reads).toBeGreaterThan(10);
  });

  it("reports each new millisecond to the lease, and refuses to mint once the lease is lost", () => {
    let now = T0;
    const lease = fakeLease(9);
    const gen = new IdGenerator(lease, { clock: () => now });
    gen.next();
    gen.next();
    now += 3;
    gen.next();
    expect(lease.minted).toEqual([T0, T0 + 3]);
    lease.held = false;
    expect(() => gen.next()).toThrow(WorkerLeaseLostError);
  });

  it("refuses a worker id outside the layout", () => {
    expect(() => new IdGenerator(fakeLease(64))).toThrow(RangeError);
  });

  it("mints on the real clock at the layout's rate, unique and increasing", () => {
    const gen = new IdGenerator(fakeLease(3));
    const n = 200_000;
    const ids = new Float64Array(n);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) ids[i] = gen.next();
    const ms = performance.now() - t0;
    for (let i = 1; i < n; i++) if (!(ids[i]! > ids[i - 1]!)) throw new Error(`not increasing at ${i}`);
    expect(ids.every((id) => Number.isSafeInteger(id))).toBe(true);
    // 128 ids per ms at most, so 200k ids take at least ~1.56 s.
    expect(ms).toBeGreaterThanOrEqual(n / SEQUENCE_SIZE - 2);
  });
});

describe("IdGenerator with a clock that stands still", () => {
  it("gives up instead of spinning forever once a millisecond is used up", () => {
    const gen = new IdGenerator(fakeLease(4), { clock: () => T0 });
    for (let i = 0; i < SEQUENCE_SIZE; i++) gen.next();
    expect(() => gen.next()).toThrow(/did not advance/);
  });
});
