import { etcdSettings, grpcServerSettings, kafkaSettings, loadConfig, mysqlSettings, processSettings, redisSettings, z } from "@rs/config";

/** The count service's settings; each key is the environment variable it comes from. */
export const countConfigSchema = z.object({
  ...processSettings,
  ...grpcServerSettings,
  ...mysqlSettings,
  ...redisSettings,
  ...etcdSettings,
  ...kafkaSettings,
});

export type CountConfig = z.infer<typeof countConfigSchema>;
export const loadCountConfig = (source?: Record<string, string | undefined>) => loadConfig(countConfigSchema, source);
