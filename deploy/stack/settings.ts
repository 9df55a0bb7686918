/**
 * Where the local stack's servers listen and keep their data.
 *
 * One source of truth for the stack runner, the test set-up and the services'
 * environment. Every port can be moved with the variable named beside it, so a
 * taken port is reported together with the setting that changes it.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { redisClusterPorts, redisClusterUrl } from "./redis-cluster.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DATA_DIR = process.env.RS_DATA_DIR ?? path.join(ROOT, ".data");
/** Tools bootstrap builds or downloads (deploy/bootstrap.sh), shared by every instance whatever its RS_DATA_DIR. */
export const TOOLS_BIN_DIR = path.join(ROOT, ".data", "bin");

/** A port the stack binds, with the variable that overrides it. */
export interface PortSetting {
  readonly name: string;
  readonly variable: string;
  readonly port: number;
}

/**
 * RS_PORT_OFFSET moves every default port below by the same amount, to run a
 * second stack beside the first (with its own RS_DATA_DIR). A port named by its
 * own variable is taken as given.
 */
export const PORT_OFFSET = portOffset(process.env.RS_PORT_OFFSET);

function portOffset(raw: string | undefined): number {
  const value = raw === undefined || raw === "" ? 0 : Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 50_000) throw new Error(`RS_PORT_OFFSET must be an integer from 0 to 50000, got "${raw}"`);
  return value;
}

function port(name: string, variable: string, fallback: number): PortSetting {
  const raw = process.env[variable];
  const value = raw === undefined || raw === "" ? fallback + PORT_OFFSET : Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${variable} must be a TCP port (1-65535), got "${raw}"`);
  }
  return { name, variable, port: value };
}

export const ports = {
  mariadb: port("MariaDB", "RS_MARIADB_PORT", 13306),
  redis: port("Redis", "RS_REDIS_PORT", 16379),
  etcdClient: port("etcd (client)", "RS_ETCD_PORT", 12379),
  etcdPeer: port("etcd (peer)", "RS_ETCD_PEER_PORT", 12380),
  kafka: port("Kafka (broker)", "RS_KAFKA_PORT", 19092),
  kafkaController: port("Kafka (controller)", "RS_KAFKA_CONTROLLER_PORT", 19093),
  gateway: port("gateway (HTTP)", "RS_GATEWAY_PORT", 8888),
  user: port("user (gRPC)", "RS_USER_PORT", 8080),
  count: port("count (gRPC)", "RS_COUNT_PORT", 8081),
  relation: port("relation (gRPC)", "RS_RELATION_PORT", 8082),
  gatewayAdmin: port("gateway (admin HTTP)", "RS_GATEWAY_ADMIN_PORT", 9100),
  userAdmin: port("user (admin HTTP)", "RS_USER_ADMIN_PORT", 9101),
  countAdmin: port("count (admin HTTP)", "RS_COUNT_ADMIN_PORT", 9102),
  relationAdmin: port("relation (admin HTTP)", "RS_RELATION_ADMIN_PORT", 9103),
  persisterAdmin: port("relation-persister (admin HTTP)", "RS_PERSISTER_ADMIN_PORT", 9104),
  countConsumerAdmin: port("count-consumer (admin HTTP)", "RS_COUNT_CONSUMER_ADMIN_PORT", 9105),
  userConsumerAdmin: port("user-consumer (admin HTTP)", "RS_USER_CONSUMER_ADMIN_PORT", 9106),
  jaegerOtlpGrpc: port("Jaeger (OTLP gRPC)", "RS_JAEGER_OTLP_GRPC_PORT", 4317),
  jaegerOtlpHttp: port("Jaeger (OTLP HTTP)", "RS_JAEGER_OTLP_HTTP_PORT", 4318),
  jaegerQuery: port("Jaeger (query API)", "RS_JAEGER_QUERY_PORT", 16686),
  jaegerQueryGrpc: port("Jaeger (query gRPC)", "RS_JAEGER_QUERY_GRPC_PORT", 16685),
  jaegerHealth: port("Jaeger (health check)", "RS_JAEGER_HEALTH_PORT", 13133),
  jaegerMetrics: port("Jaeger (own metrics)", "RS_JAEGER_METRICS_PORT", 14269),
  prometheus: port("Prometheus", "RS_PROMETHEUS_PORT", 9090),
} as const;

export const HOST = "127.0.0.1";

/**
 * RS_REDIS_CLUSTER=1: Redis is a three-master Redis Cluster on loopback
 * (redis-cluster.ts; ports RS_REDIS_PORT, +1, +2, data under DATA_DIR/redis-cluster)
 * instead of one server, and every process gets REDIS_URL=redis-cluster://...
 */
export const REDIS_CLUSTER = flag("RS_REDIS_CLUSTER", process.env.RS_REDIS_CLUSTER);
/** The client ports of the cluster's masters (RS_REDIS_CLUSTER=1). */
export const REDIS_CLUSTER_PORTS = redisClusterPorts(ports.redis.port);

function flag(variable: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === "" || raw === "0") return false;
  if (raw === "1") return true;
  throw new Error(`${variable} must be 0 or 1, got "${raw}"`);
}

/** The two physical shard databases the local stack creates. */
export const SHARD_DATABASES = ["rs_shard_0", "rs_shard_1"] as const;
export const MYSQL_USER = "rs";
/** Local-only development password for a loopback-bound server; never used in a deployment. */
export const MYSQL_PASSWORD = process.env.RS_MARIADB_PASSWORD ?? "rs-local-dev";

export const TOPICS = {
  relationEvents: { name: "relation.events", partitions: 8 },
  countChanged: { name: "count.changed", partitions: 8 },
} as const;

/** Connection settings, as the environment variables the services read. */
export function infraEnv(): Record<string, string> {
  const dsn = (db: string) => `mysql://${MYSQL_USER}:${encodeURIComponent(MYSQL_PASSWORD)}@${HOST}:${ports.mariadb.port}/${db}`;
  return {
    MYSQL_SHARD_DSNS: SHARD_DATABASES.map(dsn).join(","),
    REDIS_URL: REDIS_CLUSTER ? redisClusterUrl(HOST, REDIS_CLUSTER_PORTS) : `redis://${HOST}:${ports.redis.port}`,
    ETCD_ENDPOINTS: `http://${HOST}:${ports.etcdClient.port}`,
    KAFKA_BROKERS: `${HOST}:${ports.kafka.port}`,
  };
}
