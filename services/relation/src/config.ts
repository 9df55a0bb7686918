import { env, etcdSettings, grpcServerSettings, kafkaSettings, loadConfig, mysqlSettings, processSettings, redisSettings, z } from "@rs/config";

/** The relation service's settings; each key is the environment variable it comes from. */
export const relationConfigSchema = z.object({
  ...processSettings,
  ...grpcServerSettings,
  ...mysqlSettings,
  ...redisSettings,
  ...etcdSettings,
  ...kafkaSettings,
  FOLLOWING_CAP: env.positiveInt().default(5_000).describe("Most users one user may follow (product rule; bounds following:{A})"),
  RELATION_EVENTS_TOPIC: env.string().default("relation.events").describe("Kafka topic of follow/unfollow transitions"),
});

export type RelationConfig = z.infer<typeof relationConfigSchema>;
export const loadRelationConfig = (source?: Record<string, string | undefined>) => loadConfig(relationConfigSchema, source);
