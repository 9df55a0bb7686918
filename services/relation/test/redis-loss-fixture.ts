/**
 * The world of the Redis loss tests: a relation service and a persister whose
 * loss watch looks every 200 ms, both on a Redis of the test's own (a private
 * server or cluster it can restart), with the rest of the world (shards,
 * Kafka, the user service) as createWorld makes it.
 */
import { loadPersisterConfig } from "../src/config.js";
import { startPersister } from "../src/persister/persister.process.js";
import { baseEnv, createWorld, logger, type RelationInstance, type World } from "./relation-harness.js";

export interface RedisLossWorld {
  readonly w: World;
  readonly relation: RelationInstance;
  readonly persister: Awaited<ReturnType<typeof startPersister>>;
  /** Whether the edge from→to is active in the follower's shard. */
  persisted(from: number, to: number): Promise<boolean>;
  /** Stops the persister and the world. */
  cleanup(): Promise<void>;
}

export async function redisLossWorld(label: string, redisUrl: string): Promise<RedisLossWorld> {
  const w = await createWorld(label);
  const countsTopic = `test.count-changed.${w.tag}`;
  await w.kafkaAdmin.createTopics({ waitForLeaders: true, topics: [{ topic: countsTopic, numPartitions: 1, replicationFactor: 1 }] });
  const relation = await w.relation({ REDIS_URL: redisUrl });
  const persister = await startPersister(
    loadPersisterConfig({
      ...baseEnv({ dbs: w.dbs, prefix: w.redis.prefix }),
      REDIS_URL: redisUrl,
      RELATION_KEY_PREFIX: w.redis.prefix,
      RELATION_EVENTS_TOPIC: w.topic,
      COUNT_CHANGED_TOPIC: countsTopic,
      PERSISTER_GROUP: `test-persister-${w.tag}`,
      RECONCILE_INTERVAL_MS: "0",
      REDIS_LOSS_CHECK_INTERVAL_MS: "200",
    }),
    { logger },
  );
  return {
    w,
    relation,
    persister,
    async persisted(from, to) {
      const [rows] = await w.sharded.poolFor(from).query("SELECT status FROM follows WHERE from_user_id = ? AND to_user_id = ?", [from, to]);
      return (rows as { status: number }[])[0]?.status === 1;
    },
    async cleanup() {
      await persister.stop().catch(() => undefined);
      await w.cleanup();
    },
  };
}
