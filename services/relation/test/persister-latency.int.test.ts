/**
 * A follow published on relation.events reaches both shards and the count
 * service (through count.changed and the count-consumer) within a stated
 * bound, measured one follow at a time with the whole pipeline running
 * in-process: persister, count-consumer, count service.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceClient, type ServiceClient } from "@rs/grpc";
import { countV1 } from "@rs/idl";
import type { RowDataPacket } from "@rs/mysql";
import { infra } from "../../../test/infra.js";
import { loadCountConfig, loadCountConsumerConfig, startCountConsumer, startCountService } from "../../count/src/index.js";
import { startPersister } from "../src/persister/persister.process.js";
import { createPipelineWorld, GraphModel, logger, sleep, type PipelineWorld } from "./persister-fixture.js";

/** The stated bound: a follow is in MySQL and in the count service this soon after its publish is acknowledged. */
const BOUND_MS = 1_000;
const FOLLOWS = 15;
const POLL_MS = 5;

let w: PipelineWorld;
const stops: (() => Promise<void>)[] = [];
let counts: ServiceClient<countV1.CountServiceClient>;

beforeAll(async () => {
  w = await createPipelineWorld("latency");
  const env = {
    ...w.env(),
    ETCD_ENDPOINTS: infra().etcdEndpoints.join(","),
    GRPC_PORT: "0",
    GRPC_HOST: "127.0.0.1",
    SERVICE_NAME: `count-test-${w.tag}`,
    COUNT_KEY_PREFIX: `${w.redis.prefix}cnt:`,
    COUNT_CONSUMER_GROUP: w.group("count-consumer"),
    // the pipeline's latency: the count service's hot counters (up to 1 s old by design, ADR 18) off
    COUNT_HOT_CACHE_SIZE: "0",
  };
  const persister = await startPersister(w.config(), { logger });
  stops.push(() => persister.stop());
  const consumer = await startCountConsumer(loadCountConsumerConfig(env), { logger });
  stops.push(() => consumer.stop());
  const service = await startCountService(loadCountConfig(env), { logger });
  stops.push(() => service.stop());
  counts = createServiceClient(countV1.CountServiceClient, { target: { address: `127.0.0.1:${service.grpcPort}` }, breaker: false, logger });
  stops.push(async () => counts.close());
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await w?.cleanup();
});

async function until(cond: () => Promise<boolean>, t0: number): Promise<number> {
  while (!(await cond())) {
    if (Date.now() - t0 > BOUND_MS * 5) throw new Error("never arrived");
    await sleep(POLL_MS);
  }
  return Date.now() - t0;
}

const hasRow = async (table: "follows" | "fans", owner: number, sql: string, params: number[]) =>
  (await w.sharded.poolFor(owner).query<RowDataPacket[]>(`SELECT status FROM ${table} WHERE ${sql}`, params))[0][0]?.status === 1;

describe("pipeline latency", () => {
  it(`a follow reaches MySQL and the count service within ${BOUND_MS} ms`, async () => {
    const model = new GraphModel(FOLLOWS * 2);
    const toMysql: number[] = [];
    const toCounts: number[] = [];
    // Warm the count service's cache for the users first, so each answer must come from a change.
    await counts.batchGetCounts({ userIds: model.users });
    for (let i = 0; i < FOLLOWS; i++) {
      const a = model.users[2 * i]!;
      const b = model.users[2 * i + 1]!;
      const version = Date.now() * 1_000;
      const event = { from: a, to: b, action: "follow" as const, version, occurredAtMs: Date.now(), source: 0 };
      await w.produce([event]);
      const t0 = Date.now();
      const [mysql, count] = await Promise.all([
        until(
          async () =>
            (await hasRow("follows", a, "from_user_id = ? AND to_user_id = ?", [a, b])) &&
            (await hasRow("fans", b, "to_user_id = ? AND from_user_id = ?", [b, a])),
          t0,
        ),
        until(async () => {
          const r = await counts.batchGetCounts({ userIds: [a, b] });
          return r.counts[0]?.followingCount === 1 && r.counts[1]?.followerCount === 1;
        }, t0),
      ]);
      toMysql.push(mysql);
      toCounts.push(count);
    }
    const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
    if (process.env.PRINT_LATENCY) process.stdout.write(`mysql ms ${JSON.stringify(sorted(toMysql))}\ncounts ms ${JSON.stringify(sorted(toCounts))}\n`);
    expect(Math.max(...toMysql)).toBeLessThan(BOUND_MS);
    expect(Math.max(...toCounts)).toBeLessThan(BOUND_MS);
  }, 120_000);
});
