/**
 * A follow that finds the edge already followed while another request's
 * follow of it is still being published must not answer "already following"
 * if that publish then fails and the follow is undone: it publishes the
 * in-flight transition itself and only answers once it is on Kafka (and the
 * undo then leaves it alone), or fails as the first one does.
 *
 * A private broker, killed while the first publish is in flight, makes the
 * window wide and certain.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafka } from "@rs/kafka";
import { privateKafka, type PrivateKafka } from "../../../test/support/private-kafka.js";
import { createWorld, logger, type RelationInstance, type World } from "./relation-harness.js";

const POLL_MS = 20;
const TIMEOUT_MS = 10_000;

let w: World;
let broker: PrivateKafka;
let relation: RelationInstance;

beforeAll(async () => {
  w = await createWorld("noopjoin");
  broker = await privateKafka();
  await broker.start();
  const admin = createKafka({ brokers: broker.brokers, clientId: `noop-join-${w.tag}`, logger }).admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: w.topic, numPartitions: 1, replicationFactor: 1 }] });
  await admin.disconnect();
  relation = await w.relation({
    KAFKA_BROKERS: broker.brokers.join(","),
    // a dead broker fails a publish after a second or so: long enough for the second request to arrive
    KAFKA_CLIENT_RETRIES: "2",
    KAFKA_PRODUCER_RETRIES: "2",
    KAFKA_RETRY_INITIAL_MS: "200",
    KAFKA_RETRY_MAX_MS: "400",
  });
}, 180_000);

afterAll(async () => {
  await w?.cleanup();
  await broker?.destroy();
});

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe("a no-op that rests on a transition still being published", () => {
  it("is never answered as done when that transition is then undone", async () => {
    const [a, b, c] = await w.registerUsers(3);
    // following:{a} loaded while the broker is up
    expect(await relation.client.follow({ fromUserId: a!, toUserId: c!, source: 0 })).toMatchObject({ changed: true });
    await broker.stop();

    const first = settle(relation.client.follow({ fromUserId: a!, toUserId: b!, source: 0 }));
    // the first follow's decision is in Redis; its publish is in flight
    const deadline = Date.now() + TIMEOUT_MS;
    while (!(await w.admin.hget(`${w.redis.prefix}pending:{${a}}`, String(b))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
    const second = await settle(relation.client.follow({ fromUserId: a!, toUserId: b!, source: 0 }));
    const firstResult = await first;

    expect(firstResult.ok).toBe(false);
    const following = (await relation.client.isFollowing({ fromUserId: a!, toUserId: b! })).following;
    // the first follow was undone: the second may not have been told it holds
    expect(following).toBe(false);
    expect(second.ok, "the second follow answered success for an edge that was then undone").toBe(false);
  });
});
