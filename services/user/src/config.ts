import { env, etcdSettings, grpcServerSettings, jwtSettings, kafkaSettings, loadConfig, mysqlSettings, processSettings, redisSettings, withJwtKeyRules, z } from "@rs/config";

/** The user service's settings; each key is the environment variable it comes from. */
export const userConfigSchema = withJwtKeyRules(
  z.object({
    ...processSettings,
    ...grpcServerSettings,
    ...mysqlSettings,
    ...redisSettings,
    ...etcdSettings,
    ...kafkaSettings,
    ...jwtSettings,
    BCRYPT_COST: env.positiveInt().default(10).describe("bcrypt cost factor of stored passwords"),
  }),
  ["issue"],
);

export type UserConfig = z.infer<typeof userConfigSchema>;
export const loadUserConfig = (source?: Record<string, string | undefined>) => loadConfig(userConfigSchema, source);
