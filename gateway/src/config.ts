import { env, etcdSettings, jwtSettings, loadConfig, processSettings, redisSettings, withJwtKeyRules, z } from "@rs/config";
import { REVOCATION_KEY_PREFIX } from "@rs/auth";
import { RATE_LIMIT_DEFAULTS } from "./http/redis-token-bucket.js";

/** A rate in tokens per second; fractions allowed (0.2 = one token every 5 s). */
const rate = () => z.coerce.number({ error: "must be a number > 0" }).positive("must be > 0").finite("must be finite");

/** Origins allowed by CORS: a comma-separated list of origins, `*` for any, empty for none (no CORS headers). */
const originList = () =>
  z
    .string()
    .optional()
    .transform((s) =>
      (s ?? "")
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    )
    .refine((xs) => xs.every((x) => x === "*" || isOrigin(x)), "each entry must be an origin like https://app.example.com, or *");

function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === "http:" || u.protocol === "https:") && u.origin === value;
  } catch {
    return false;
  }
}

/** Defaults of the gateway's own settings (named, so tests and docs can refer to them). */
export const GATEWAY_DEFAULTS = {
  httpPort: 8888,
  /** Enough for a batch is-following of 1000 ids (about 17 kB), small enough to refuse junk early. */
  bodyLimit: "32kb",
  deadlineMs: 2_000,
  userRate: { capacity: 100, refillPerSecond: 50 },
  ipRate: { capacity: 300, refillPerSecond: 150 },
  /** register/login cost a bcrypt hash each: a small bucket per address. */
  authRate: { capacity: 10, refillPerSecond: 0.5 },
  /** How many users one /douyin list answer carries (the app API has no paging). */
  douyinListMax: 100,
  /** Deepest `page * pageSize` the page routes serve (each page walks the cursor from the start: at most 10 full calls). */
  pageMaxOffset: 1_000,
  /** One deadline for all the calls of a walk (page routes, /douyin lists): a few calls' worth, not 10 × GRPC_DEADLINE_MS. */
  listWalkDeadlineMs: 3_000,
  /** Neither list depth setting may go past this: each walk is at most this / 100 full calls. */
  listDepthLimit: 5_000,
  /** Verified tokens kept per process (about 1 kB each): a busy process's signed-in users of the last minutes. */
  jwtCacheSize: 10_000,
} as const;

/** The gateway's settings; each key is the environment variable it comes from. */
export const gatewayConfigSchema = withJwtKeyRules(
  z.object({
    ...processSettings,
    ...etcdSettings,
    ...redisSettings,
    ...jwtSettings,
    TOKEN_REVOCATION_PREFIX: env
      .string()
      .default(REVOCATION_KEY_PREFIX)
      .describe("Redis key prefix of revoked token ids; the same as the user service's, which writes them"),
    JWT_CACHE_SIZE: env
      .nonNegativeInt()
      .default(GATEWAY_DEFAULTS.jwtCacheSize)
      .describe(
        "Verified tokens kept per process so a token's signature is checked once, not per request (each still refused once expired, revocation still checked per request; ADR 0020); 0 = none",
      ),
    HTTP_PORT: env.port().describe(`Port of the public HTTP API (the local stack uses ${GATEWAY_DEFAULTS.httpPort}; 0 picks a free one)`),
    HTTP_HOST: env.string("a bind address").default("0.0.0.0").describe("Address the HTTP API binds"),
    HTTP_REUSE_PORT: env
      .bool()
      .default(false)
      .describe(
        "Bind the HTTP port with SO_REUSEPORT (Linux), so several gateway processes on one machine share it and the kernel spreads connections over them (ADR 0017)",
      ),
    HTTP_BODY_LIMIT: env.string("a size like 32kb").default(GATEWAY_DEFAULTS.bodyLimit).describe("Largest request body accepted (413 above it)"),
    HTTP_TRUST_PROXY_HOPS: env
      .nonNegativeInt()
      .default(0)
      .describe("Reverse proxies in front of the gateway whose X-Forwarded-For is trusted for the client address (0 = use the TCP peer)"),
    CORS_ORIGINS: originList().describe("Origins browsers may call the API from: comma-separated, * for any, empty for none"),
    GRPC_DEADLINE_MS: env.positiveInt().default(GATEWAY_DEFAULTS.deadlineMs).describe("Deadline of each call to a service, retries included"),
    PROFILE_COALESCE: env
      .bool()
      .default(true)
      .describe("GetUser calls made in the same turn of the event loop share one BatchGetUsers call (up to its 100 ids; ADR 0022); false: one call each"),
    USER_SERVICE_NAME: env.string().default("user").describe("etcd name of the user service"),
    RELATION_SERVICE_NAME: env.string().default("relation").describe("etcd name of the relation service"),
    COUNT_SERVICE_NAME: env.string().default("count").describe("etcd name of the count service"),
    RATE_LIMIT_USER_CAPACITY: env.positiveInt().default(GATEWAY_DEFAULTS.userRate.capacity).describe("Burst of requests one signed-in user may make"),
    RATE_LIMIT_USER_REFILL_PER_SECOND: rate()
      .default(GATEWAY_DEFAULTS.userRate.refillPerSecond)
      .describe("Sustained requests per second of one signed-in user"),
    RATE_LIMIT_IP_CAPACITY: env.positiveInt().default(GATEWAY_DEFAULTS.ipRate.capacity).describe("Burst of requests from one client address (IPv6: one /64)"),
    RATE_LIMIT_IP_REFILL_PER_SECOND: rate().default(GATEWAY_DEFAULTS.ipRate.refillPerSecond).describe("Sustained requests per second from one client address"),
    RATE_LIMIT_AUTH_CAPACITY: env
      .positiveInt()
      .default(GATEWAY_DEFAULTS.authRate.capacity)
      .describe("Burst of register/login requests from one client address"),
    RATE_LIMIT_AUTH_REFILL_PER_SECOND: rate()
      .default(GATEWAY_DEFAULTS.authRate.refillPerSecond)
      .describe("Sustained register/login requests per second from one client address"),
    RATE_LIMIT_FAIL_OPEN: env
      .bool()
      .default(RATE_LIMIT_DEFAULTS.failOpen)
      .describe(
        "When Redis cannot answer the per-address/per-user limiters: true lets requests through, false refuses them (503); register/login are refused either way (ADR 0006)",
      ),
    RATE_LIMIT_TIMEOUT_MS: env
      .positiveInt()
      .default(RATE_LIMIT_DEFAULTS.timeoutMs)
      .describe("Longest wait for the limiter's Redis before it counts as unavailable"),
    RATE_LIMIT_KEY_PREFIX: env.string().default(RATE_LIMIT_DEFAULTS.keyPrefix).describe("Prefix of the token bucket keys in Redis"),
    DOUYIN_LIST_MAX: env
      .positiveInt()
      .max(GATEWAY_DEFAULTS.listDepthLimit, `must be at most ${GATEWAY_DEFAULTS.listDepthLimit}`)
      .default(GATEWAY_DEFAULTS.douyinListMax)
      .describe("Most users in one /douyin relation list answer (newest first)"),
    PAGE_MAX_OFFSET: env
      .positiveInt()
      .max(GATEWAY_DEFAULTS.listDepthLimit, `must be at most ${GATEWAY_DEFAULTS.listDepthLimit}`)
      .default(GATEWAY_DEFAULTS.pageMaxOffset)
      .describe("Deepest page*pageSize served by the page/pageSize routes (400 beyond); deeper pages use the cursor routes"),
    LIST_WALK_DEADLINE_MS: env
      .positiveInt()
      .default(GATEWAY_DEFAULTS.listWalkDeadlineMs)
      .describe("One deadline for all the calls a page/pageSize route or a /douyin list makes walking cursors from the start (504 beyond)"),
  }),
  ["verify"],
);

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const loadGatewayConfig = (source?: Record<string, string | undefined>) => loadConfig(gatewayConfigSchema, source);
