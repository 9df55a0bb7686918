/**
 * Settings most processes share, each documented. Services spread the groups
 * they need into their own schema, so every process validates exactly what it reads.
 */
import { z } from "zod";
import * as f from "./fields.js";

export const VIRTUAL_SHARDS_DEFAULT = 64;

export const mysqlSettings = {
  MYSQL_SHARD_DSNS: f.dsnList().describe("Comma-separated DSNs of the physical shard databases, mysql://user:password@host:port/database"),
  MYSQL_SHARD_MAP: f
    .string("a shard map like 0-31=0,32-63=1")
    .optional()
    .describe("Which physical shard (index into MYSQL_SHARD_DSNS) holds each virtual shard; default spreads them evenly"),
  MYSQL_VIRTUAL_SHARDS: f.positiveInt().default(VIRTUAL_SHARDS_DEFAULT).describe("Number of virtual shards; fixed for the life of the data"),
  MYSQL_POOL_SIZE: f.positiveInt().default(10).describe("Connections per physical shard"),
  MYSQL_CONNECT_TIMEOUT_MS: f.positiveInt().default(5_000).describe("Longest opening a connection (TCP + handshake) may take"),
  MYSQL_ACQUIRE_TIMEOUT_MS: f
    .positiveInt()
    .default(5_000)
    .describe("Longest a call waits for a pooled connection (all busy, or a new one opening) before it fails"),
  MYSQL_QUERY_TIMEOUT_MS: f
    .positiveInt()
    .default(10_000)
    .describe(
      "Longest one statement (or BEGIN/COMMIT/ROLLBACK) may take from the call before it fails and its connection is dropped; keep it above innodb lock wait timeouts",
    ),
};

export const redisSettings = {
  REDIS_URL: f
    .redisUrl()
    .describe(
      "Redis URL: one Redis, redis://[user:password@]host:port[/db], or a Redis Cluster, redis-cluster://[user:password@]host:port,host:port (seed nodes; docs/deployment.md)",
    ),
};

/**
 * The staleness bound and threshold of a service's hot-key caches
 * (docs/adr/0018-hot-profiles-in-process.md); each cache's size is the service's own setting.
 */
export const hotKeySettings = {
  HOT_KEY_TTL_MS: f
    .positiveInt()
    .default(1_000)
    .describe("How long a hot key's value is served from process memory without asking Redis or another service: how stale it may be"),
  HOT_KEY_MIN_HITS: f.positiveInt().default(3).describe("Times within 10 s a key must be asked for before its value is kept in process"),
  HOT_KEY_SAMPLE_EVERY: f
    .positiveInt()
    .default(4)
    .describe(
      "Of the lookups of a key held in process, the hot-key counter counts one in this many, at random, as this many hits (1: every lookup); keys not held are always counted one by one",
    ),
};

/** One hot-key cache's settings: its `size` (the service's own setting) with the shared TTL, threshold and sampling. */
export function hotKeysOf(config: { HOT_KEY_TTL_MS: number; HOT_KEY_MIN_HITS: number; HOT_KEY_SAMPLE_EVERY: number }, size: number) {
  return { size, ttlMs: config.HOT_KEY_TTL_MS, minHits: config.HOT_KEY_MIN_HITS, sampleEvery: config.HOT_KEY_SAMPLE_EVERY };
}

/**
 * The Redis pub/sub channel on which the user service and the user-consumer
 * announce each profile they change, and on which the relation service drops
 * its kept copies (docs/adr/0028-profile-change-notices.md). Publishers and
 * subscribers must name the same channel on the same Redis.
 */
export const profileChangeSettings = {
  PROFILE_CHANGES_CHANNEL: f
    .string()
    .default("user:profile-changes")
    .describe("Redis pub/sub channel of profile change notices (user id per message); the user processes publish, the relation subscribes"),
};

export const etcdSettings = {
  ETCD_ENDPOINTS: f.urlList(["http:", "https:"]).describe("Comma-separated etcd client URLs"),
};

export const kafkaSettings = {
  KAFKA_BROKERS: f.hostPortList().describe("Comma-separated Kafka bootstrap brokers, host:port"),
};

export const processSettings = {
  ADMIN_PORT: f.port().default(0).describe("Port of /healthz, /readyz and /metrics"),
  LOG_LEVEL: f.logLevel().describe("pino log level"),
  SERVICE_HOST: f
    .string("a host name or IP")
    .default("127.0.0.1")
    .describe(
      "Address other processes use to reach this one; registered in etcd. `auto`: this machine's own non-loopback interface address (one per container or pod, so replicas register distinct addresses)",
    ),
  SHUTDOWN_TIMEOUT_MS: f.positiveInt().default(10_000).describe("How long draining in-flight calls may take before they are cut"),
};

export const grpcServerSettings = {
  GRPC_PORT: f.port().describe("Port the gRPC server listens on (0 picks a free one)"),
  GRPC_HOST: f.string("a bind address").default("0.0.0.0").describe("Address the gRPC server binds"),
  ETCD_LEASE_TTL_SECONDS: f.positiveInt().default(10).describe("TTL of the etcd lease behind this instance's registration"),
};

/** Signing algorithms a deployment may choose; HS256 needs one shared secret, RS256 a key pair. */
export const JWT_ALGORITHMS = ["HS256", "RS256"] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
export const JWT_SECRET_MIN_LENGTH = 32;
export const JWT_TTL_SECONDS_DEFAULT = 7 * 24 * 3600;
/** Clock skew tolerated between the issuing and the verifying host. */
export const JWT_CLOCK_TOLERANCE_SECONDS_DEFAULT = 5;

export const jwtSettings = {
  JWT_ALGORITHM: z
    .enum(JWT_ALGORITHMS, { error: `must be one of ${JWT_ALGORITHMS.join(", ")}` })
    .default("HS256")
    .describe("Token signing algorithm: HS256 (shared JWT_SECRET) or RS256 (JWT_PRIVATE_KEY signs, JWT_PUBLIC_KEY verifies)"),
  JWT_SECRET: f
    .secret(JWT_SECRET_MIN_LENGTH)
    .optional()
    .describe(`HS256 signing secret (at least ${JWT_SECRET_MIN_LENGTH} characters); required when JWT_ALGORITHM=HS256; never logged`),
  JWT_PRIVATE_KEY: f
    .rsaPem("private")
    .optional()
    .describe("RS256 private key (PEM, literal \\n allowed); required when JWT_ALGORITHM=RS256 in a process that issues tokens; never logged"),
  JWT_PUBLIC_KEY: f
    .rsaPem("public")
    .optional()
    .describe("RS256 public key (PEM, literal \\n allowed); required when JWT_ALGORITHM=RS256 in a process that verifies tokens"),
  JWT_ISSUER: f.string().default("relation-suite").describe("iss claim issued and required"),
  JWT_AUDIENCE: f.string().default("relation-suite-apps").describe("aud claim issued and required"),
  JWT_TTL_SECONDS: f.positiveInt().default(JWT_TTL_SECONDS_DEFAULT).describe("Lifetime of an issued token"),
  JWT_CLOCK_TOLERANCE_SECONDS: f.nonNegativeInt().default(JWT_CLOCK_TOLERANCE_SECONDS_DEFAULT).describe("Clock skew accepted when checking exp, nbf and iat"),
};

/** What a process does with tokens, which decides the keys it must be given under RS256. */
export type JwtKeyUse = "issue" | "verify";

/**
 * Adds the cross-field rules of {@link jwtSettings} to a process schema: HS256 needs
 * JWT_SECRET; RS256 needs JWT_PRIVATE_KEY to issue and JWT_PUBLIC_KEY to verify
 * (an issuer derives its public key from the private one), and a given pair must
 * match. Each issue names the variable, so `loadConfig` reports it like any other.
 */
export function withJwtKeyRules<S extends z.ZodObject>(schema: S, uses: readonly JwtKeyUse[]): S {
  return schema.superRefine(
    (value, ctx) => {
      // Runs even when other fields failed (`when` below), so read defensively:
      // a field that failed has already been reported by its own check.
      const cfg = value as Record<string, unknown>;
      const need = (variable: string, why: string) => {
        if (cfg[variable] === undefined) ctx.addIssue({ code: "custom", path: [variable], message: `is required ${why}` });
      };
      if (cfg.JWT_ALGORITHM === "HS256") {
        need("JWT_SECRET", `when JWT_ALGORITHM is HS256 (a secret of at least ${JWT_SECRET_MIN_LENGTH} characters)`);
      } else if (cfg.JWT_ALGORITHM === "RS256") {
        if (uses.includes("issue")) need("JWT_PRIVATE_KEY", "when JWT_ALGORITHM is RS256 and this process issues tokens");
        if (uses.includes("verify") && !uses.includes("issue")) need("JWT_PUBLIC_KEY", "when JWT_ALGORITHM is RS256 and this process verifies tokens");
        const priv = cfg.JWT_PRIVATE_KEY;
        const pub = cfg.JWT_PUBLIC_KEY;
        if (typeof priv === "string" && typeof pub === "string" && !f.rsaKeysMatch(priv, pub)) {
          ctx.addIssue({ code: "custom", path: ["JWT_PUBLIC_KEY"], message: "is not the public half of JWT_PRIVATE_KEY" });
        }
      }
    },
    { when: () => true },
  );
}
