/**
 * Settings most processes share, each documented. Services spread the groups
 * they need into their own schema, so every process validates exactly what it reads.
 */
import * as f from "./fields.js";

export const VIRTUAL_SHARDS_DEFAULT = 64;

export const mysqlSettings = {
  MYSQL_SHARD_DSNS: f.dsnList().describe("Comma-separated DSNs of the physical shard databases, mysql://user:password@host:port/database"),
  MYSQL_SHARD_MAP: f.string("a shard map like 0-31=0,32-63=1").optional().describe("Which physical shard (index into MYSQL_SHARD_DSNS) holds each virtual shard; default spreads them evenly"),
  MYSQL_VIRTUAL_SHARDS: f.positiveInt().default(VIRTUAL_SHARDS_DEFAULT).describe("Number of virtual shards; fixed for the life of the data"),
  MYSQL_POOL_SIZE: f.positiveInt().default(10).describe("Connections per physical shard"),
};

export const redisSettings = {
  REDIS_URL: f.url(["redis:", "rediss:"]).describe("Redis URL, redis://[user:password@]host:port[/db]"),
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
  SERVICE_HOST: f.string("a host name or IP").default("127.0.0.1").describe("Address other processes use to reach this one; registered in etcd"),
  SHUTDOWN_TIMEOUT_MS: f.positiveInt().default(10_000).describe("How long draining in-flight calls may take before they are cut"),
};

export const grpcServerSettings = {
  GRPC_PORT: f.port().describe("Port the gRPC server listens on (0 picks a free one)"),
  GRPC_HOST: f.string("a bind address").default("0.0.0.0").describe("Address the gRPC server binds"),
  ETCD_LEASE_TTL_SECONDS: f.positiveInt().default(10).describe("TTL of the etcd lease behind this instance's registration"),
};

export const jwtSettings = {
  JWT_SECRET: f.secret(32).describe("HS256 signing secret (at least 32 characters); never logged"),
  JWT_ISSUER: f.string().default("relation-suite").describe("iss claim issued and required"),
  JWT_AUDIENCE: f.string().default("relation-suite-apps").describe("aud claim issued and required"),
};
