import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { Etcd3 } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { infra } from "../../../test/infra.js";
import { IdGenerator, NoFreeWorkerIdError, WorkerLeaseLostError, decodeId, leaseWorkerId, type WorkerLease } from "../src/index.js";

const logger = createLogger("ids-test", "silent");
/** Unique per run, so concurrent runs and other tests never see each other's worker ids. */
const root = `/rs-test/ids-${randomBytes(5).toString("hex")}/`;
let n = 0;
const freshPrefix = () => `${root}${n++}/workers/`;
const TTL_SECONDS = 5;

const clients: Etcd3[] = [];
/** One client per simulated instance, as separate processes would have. */
function client(): Etcd3 {
  const c = new Etcd3({ hosts: infra().etcdEndpoints });
  clients.push(c);
  return c;
}
let etcd: Etcd3;
const leases: WorkerLease[] = [];
async function lease(prefix: string, extra: { maxWorkers?: number; ttlSeconds?: number } = {}): Promise<WorkerLease> {
  const l = await leaseWorkerId(client(), { prefix, ttlSeconds: TTL_SECONDS, logger, ...extra });
  leases.push(l);
  return l;
}

beforeAll(() => {
  etcd = client();
});

afterAll(async () => {
  await Promise.all(leases.map((l) => l.release().catch(() => undefined)));
  await etcd.delete().prefix(root);
  for (const c of clients) c.close();
});

describe("leaseWorkerId against etcd", () => {
  it("gives concurrent instances distinct worker ids, lowest first", async () => {
    const prefix = freshPrefix();
    const held = await Promise.all(Array.from({ length: 12 }, () => lease(prefix)));
    const ids = held.map((l) => l.workerId).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const keys = (await etcd.getAll().prefix(prefix).keys()).sort();
    expect(keys).toEqual(ids.map((i) => `${prefix}${i}`).sort());
    expect(held.every((l) => l.isHeld())).toBe(true);
  });

  it("reuses a released worker id, and refuses when every id is held", async () => {
    const prefix = freshPrefix();
    const held: WorkerLease[] = [];
    for (let i = 0; i < 4; i++) held.push(await lease(prefix, { maxWorkers: 4 }));
    await expect(lease(prefix, { maxWorkers: 4 })).rejects.toThrow(NoFreeWorkerIdError);

    await held[2]!.release();
    expect(held[2]!.isHeld()).toBe(false);
    expect(await etcd.get(`${prefix}2`).string()).toBeNull();
    const again = await lease(prefix, { maxWorkers: 4 });
    expect(again.workerId).toBe(2);
    // The refused attempt left no key behind.
    expect(await etcd.getAll().prefix(prefix).keys()).toHaveLength(4 + 1 /* last-minted of id 2 */);
  });

  it("starts the next holder of a worker id after the last id of the previous one", async () => {
    const prefix = freshPrefix();
    const first = await lease(prefix);
    const gen1 = new IdGenerator(first);
    let last = 0;
    for (let i = 0; i < 1_000; i++) last = gen1.next();
    await first.release();
    expect(() => gen1.next()).toThrow(WorkerLeaseLostError);

    const second = await lease(prefix);
    expect(second.workerId).toBe(first.workerId);
    expect(second.notBeforeMs).toBeGreaterThanOrEqual(decodeId(last).timestampMs);
    expect(new IdGenerator(second).next()).toBeGreaterThan(last);
  });

  it("two generators on leased worker ids mint 1M ids each: no duplicates, all safe, each strictly increasing", async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([lease(prefix), lease(prefix)]);
    expect(a!.workerId).not.toBe(b!.workerId);
    const genA = new IdGenerator(a!);
    const genB = new IdGenerator(b!);
    const perGenerator = 1_000_000;
    const all = new Float64Array(2 * perGenerator);
    let prevA = -1;
    let prevB = -1;
    const t0 = performance.now();
    for (let i = 0; i < perGenerator; i++) {
      // Let keep-alives through, as a service's event loop would: a lease whose
      // renewals cannot be confirmed stops counting as held, and next() refuses.
      if (i % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve));
      const x = genA.next();
      const y = genB.next();
      if (!(x > prevA) || !(y > prevB)) throw new Error(`ids not strictly increasing at ${i}`);
      if (!Number.isSafeInteger(x) || !Number.isSafeInteger(y)) throw new Error(`unsafe id at ${i}`);
      prevA = x;
      prevB = y;
      all[2 * i] = x;
      all[2 * i + 1] = y;
    }
    const ms = performance.now() - t0;
    all.sort();
    let duplicates = 0;
    for (let i = 1; i < all.length; i++) if (all[i] === all[i - 1]) duplicates++;
    expect(duplicates).toBe(0);
    expect(decodeId(prevA).workerId).toBe(a!.workerId);
    expect(decodeId(prevB).workerId).toBe(b!.workerId);
    // Recorded for the report: the layout allows 128 ids/ms per worker.
    logger.info({ ms, idsPerSecondPerGenerator: Math.round(perGenerator / (ms / 1000)) }, "minted");
  });

  it("keeps the lease alive past its TTL", async () => {
    const l = await lease(freshPrefix(), { ttlSeconds: 3 });
    await delay(4_500);
    expect(l.isHeld()).toBe(true);
    expect(await etcd.get(l.key).string()).not.toBeNull();
  });

  it("refuses to mint while its keep-alives cannot be confirmed (event loop blocked longer than TTL - margin)", async () => {
    const l = await lease(freshPrefix(), { ttlSeconds: 3 });
    const gen = new IdGenerator(l);
    gen.next();
    // 2.1 s without the event loop: at most 3 s - 2.1 s = 0.9 s of the lease is
    // confirmed, less than the 1 s safety margin.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_100);
    expect(l.isHeld()).toBe(false);
    expect(() => gen.next()).toThrow(WorkerLeaseLostError);
  });

  it("reports a lease revoked behind its back, stops minting, and frees the id", async () => {
    const prefix = freshPrefix();
    const l = await lease(prefix);
    const gen = new IdGenerator(l);
    gen.next();
    const lost = new Promise<Error>((resolve) => l.onLost(resolve));
    const kv = (await etcd.get(l.key).exec()).kvs[0]!;
    await etcd.leaseClient.leaseRevoke({ ID: kv.lease });

    const err = await Promise.race([lost, delay(TTL_SECONDS * 1000).then(() => undefined)]);
    expect(err).toBeInstanceOf(Error);
    expect(l.isLost()).toBe(true);
    expect(() => gen.next()).toThrow(WorkerLeaseLostError);
    expect((await lease(prefix)).workerId).toBe(l.workerId);
  });

  it("treats its key deleted by someone else as lost", async () => {
    const l = await lease(freshPrefix());
    const lost = new Promise<Error>((resolve) => l.onLost(resolve));
    await etcd.delete().key(l.key);
    const err = await Promise.race([lost, delay(2_000).then(() => undefined)]);
    expect(err?.message).toMatch(/deleted by someone else/);
    expect(l.isHeld()).toBe(false);
  });
});
