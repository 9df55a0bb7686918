import { env, etcdSettings, jwtSettings, loadConfig, processSettings, redisSettings, withJwtKeyRules, z } from "@rs/config";

/** The gateway's settings; each key is the environment variable it comes from. */
export const gatewayConfigSchema = withJwtKeyRules(
  z.object({
    ...processSettings,
    ...etcdSettings,
    ...redisSettings,
    ...jwtSettings,
    HTTP_PORT: env.port().describe("Port of the public HTTP API"),
    HTTP_HOST: env.string("a bind address").default("0.0.0.0").describe("Address the HTTP API binds"),
    HTTP_BODY_LIMIT: env.string("a size like 16kb").default("16kb").describe("Largest request body accepted"),
    GRPC_DEADLINE_MS: env.positiveInt().default(2_000).describe("Deadline of each call to a service"),
  }),
  ["verify"],
);

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const loadGatewayConfig = (source?: Record<string, string | undefined>) => loadConfig(gatewayConfigSchema, source);
