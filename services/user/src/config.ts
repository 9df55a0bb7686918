import { env, etcdSettings, grpcServerSettings, jwtSettings, kafkaSettings, loadConfig, mysqlSettings, processSettings, redisSettings, z } from "@rs/config";

/** The user service's settings; each key is the environment variable it comes from. */
export const userConfigSchema = z.object({
  ...processSettings,
  ...grpcServerSettings,
  ...mysqlSettings,
  ...redisSettings,
  ...etcdSettings,
  ...kafkaSettings,
  ...jwtSettings,
  BCRYPT_COST: env.positiveInt().default(10).describe("bcrypt cost factor of stored passwords"),
  JWT_TTL_SECONDS: env.positiveInt().default(7 * 24 * 3600).describe("Lifetime of an issued token"),
});

export type UserConfig = z.infer<typeof userConfigSchema>;
export const loadUserConfig = (source?: Record<string, string | undefined>) => loadConfig(userConfigSchema, source);
