/**
 * The four infrastructure servers of the local stack, each a real server run
 * as a local process on loopback with its data under .data/.
 */
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DATA_DIR, HOST, REDIS_CLUSTER, REDIS_CLUSTER_PORTS, ROOT, ports, type PortSetting } from "./settings.js";
import { portInUse, type ProcessSpec } from "./processes.js";
import { prometheus, prometheusEnabled } from "./prometheus.js";
import { jaeger, jaegerEnabled } from "./jaeger.js";
import { redisMemoryArgs } from "./redis-memory.js";
import { REDIS_CLUSTER_BUS_OFFSET, formRedisCluster, redisCli, redisClusterNodeArgs, redisClusterOk } from "./redis-cluster.js";

export interface InfraServer {
  readonly name: string;
  readonly ports: readonly PortSetting[];
  /** One-time set-up of the data folder (idempotent). */
  prepare(): void;
  spec(): ProcessSpec;
  ready(): Promise<boolean>;
  /** How long a cold start may take. */
  readonly startTimeoutMs: number;
  /** What `status` shows as its address (default: every port it binds). */
  readonly address?: () => string;
}

const dir = (name: string) => path.join(DATA_DIR, name);
export const MARIADB_SOCKET = path.join(DATA_DIR, "run", "mariadb.sock");

function mkdir(p: string) {
  fs.mkdirSync(p, { recursive: true });
}

const runAsRoot = typeof process.getuid === "function" && process.getuid() === 0;

export const mariadb: InfraServer = {
  name: "mariadb",
  ports: [ports.mariadb],
  startTimeoutMs: 60_000,
  prepare() {
    const data = dir("mariadb");
    if (fs.existsSync(path.join(data, "mysql"))) return;
    mkdir(data);
    mkdir(path.dirname(MARIADB_SOCKET));
    execFileSync(
      "mariadb-install-db",
      ["--no-defaults", `--datadir=${data}`, "--auth-root-authentication-method=socket", "--skip-test-db", ...(runAsRoot ? ["--user=root"] : [])],
      { stdio: "pipe" },
    );
  },
  spec() {
    return {
      name: "mariadb",
      command: "mariadbd",
      marker: dir("mariadb"),
      args: [
        "--no-defaults",
        `--datadir=${dir("mariadb")}`,
        `--socket=${MARIADB_SOCKET}`,
        `--port=${ports.mariadb.port}`,
        `--bind-address=${HOST}`,
        `--pid-file=${path.join(DATA_DIR, "run", "mariadbd.pid")}`,
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=256M",
        "--max-connections=500",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        ...(runAsRoot ? ["--user=root"] : []),
      ],
    };
  },
  async ready() {
    if (!(await portInUse(ports.mariadb.port))) return false;
    execFileSync("mariadb-admin", [`--socket=${MARIADB_SOCKET}`, "-uroot", "ping"], { stdio: "pipe" });
    return true;
  },
};

/** The redis-server arguments of a stack node on `port` with its data in `data`: persistence and the memory bound. */
function redisServerArgs(port: number, data: string): string[] {
  return [
    "--port",
    String(port),
    "--bind",
    HOST,
    "--dir",
    data,
    "--appendonly",
    "yes",
    "--appendfsync",
    "everysec",
    "--save",
    "",
    // bounded memory, evicting only keys with a lifetime (redis-memory.ts); on a cluster, per master
    ...redisMemoryArgs(),
    "--daemonize",
    "no",
  ];
}

export const redis: InfraServer = {
  name: "redis",
  ports: [ports.redis],
  startTimeoutMs: 20_000,
  prepare() {
    mkdir(dir("redis"));
  },
  spec() {
    return {
      name: "redis",
      command: "redis-server",
      // Redis rewrites its title to "redis-server host:port"; the bare port is in both forms.
      marker: String(ports.redis.port),
      args: redisServerArgs(ports.redis.port, dir("redis")),
    };
  },
  async ready() {
    return (await redisCli(HOST, ports.redis.port, "ping")).trim() === "PONG";
  },
};

/**
 * RS_REDIS_CLUSTER=1: three cluster-enabled masters instead of `redis`, on
 * RS_REDIS_PORT, +1 and +2 (cluster bus +1000 each), data under
 * DATA_DIR/redis-cluster/<port>. Each is ready once the cluster is: the first
 * readiness poll that finds all three answering forms the cluster (fresh nodes
 * only, redis-cluster.ts), later ones wait for `cluster_state:ok`.
 */
let forming: Promise<void> | undefined;
const formLocalCluster = () => (forming ??= formRedisCluster(HOST, REDIS_CLUSTER_PORTS).finally(() => (forming = undefined)));

function redisClusterNode(index: number): InfraServer {
  const port = REDIS_CLUSTER_PORTS[index]!;
  const name = `redis-cluster-${index + 1}`;
  const data = path.join(dir("redis-cluster"), String(port));
  return {
    name,
    ports: [{ name: `Redis Cluster node ${index + 1}`, variable: "RS_REDIS_PORT", port }],
    startTimeoutMs: 40_000,
    address: () => `${HOST}:${port} (cluster bus :${port + REDIS_CLUSTER_BUS_OFFSET})`,
    prepare() {
      mkdir(data);
    },
    spec() {
      return { name, command: "redis-server", marker: String(port), args: [...redisServerArgs(port, data), ...redisClusterNodeArgs(port)] };
    },
    async ready() {
      if (await redisClusterOk(HOST, REDIS_CLUSTER_PORTS)) return true;
      await formLocalCluster();
      return true;
    },
  };
}

export const redisClusterNodes: readonly InfraServer[] = REDIS_CLUSTER_PORTS.map((_, i) => redisClusterNode(i));

export const etcd: InfraServer = {
  name: "etcd",
  ports: [ports.etcdClient, ports.etcdPeer],
  startTimeoutMs: 20_000,
  prepare() {
    mkdir(dir("etcd"));
  },
  spec() {
    const client = `http://${HOST}:${ports.etcdClient.port}`;
    const peer = `http://${HOST}:${ports.etcdPeer.port}`;
    return {
      name: "etcd",
      command: "etcd",
      marker: dir("etcd"),
      args: [
        "--name",
        "rs-local",
        "--data-dir",
        dir("etcd"),
        "--listen-client-urls",
        client,
        "--advertise-client-urls",
        client,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        `rs-local=${peer}`,
        "--log-level",
        "warn",
      ],
    };
  },
  async ready() {
    const res = await fetch(`http://${HOST}:${ports.etcdClient.port}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === "true";
  },
};

const KAFKA_HOME = path.join(ROOT, "deploy", "kafka");
const kafkaClasspath = () => path.join(KAFKA_HOME, "libs", "*");

function kafkaProperties(): string {
  const file = path.join(dir("kafka"), "server.properties");
  const props = [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@${HOST}:${ports.kafkaController.port}`,
    `listeners=PLAINTEXT://${HOST}:${ports.kafka.port},CONTROLLER://${HOST}:${ports.kafkaController.port}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${ports.kafka.port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${path.join(dir("kafka"), "logs")}`,
    "num.partitions=8",
    // Topics are created explicitly with their partition counts.
    "auto.create.topics.enable=false",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=8",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "log.retention.hours=168",
  ].join("\n");
  fs.writeFileSync(file, props + "\n");
  return file;
}

export const kafka: InfraServer = {
  name: "kafka",
  ports: [ports.kafka, ports.kafkaController],
  startTimeoutMs: 90_000,
  prepare() {
    mkdir(dir("kafka"));
    const props = kafkaProperties();
    if (fs.existsSync(path.join(dir("kafka"), "logs", "meta.properties"))) return;
    const clusterId = crypto.randomBytes(16).toString("base64url").slice(0, 22);
    execFileSync(
      "java",
      [
        "-cp",
        kafkaClasspath(),
        `-Dlog4j.configuration=file:${path.join(KAFKA_HOME, "log4j.properties")}`,
        "kafka.tools.StorageTool",
        "format",
        // `=`: a base64url id may start with "-", which would read as an option
        `--cluster-id=${clusterId}`,
        `--config=${props}`,
      ],
      { stdio: "pipe" },
    );
  },
  spec() {
    return {
      name: "kafka",
      command: "java",
      marker: path.join(dir("kafka"), "server.properties"),
      args: [
        `-Xms256m`,
        `-Xmx${process.env.RS_KAFKA_HEAP ?? "768m"}`,
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        `-Dlog4j.configuration=file:${path.join(KAFKA_HOME, "log4j.properties")}`,
        "-cp",
        kafkaClasspath(),
        "kafka.Kafka",
        path.join(dir("kafka"), "server.properties"),
      ],
    };
  },
  async ready() {
    // Ready when the broker answers metadata requests (see provision.ts).
    return portInUse(ports.kafka.port);
  },
};

/** Every server the stack knows, whether or not this run starts it (`stop` looks for all). */
export const ALL_INFRA: readonly InfraServer[] = [mariadb, redis, ...redisClusterNodes, etcd, kafka, jaeger, prometheus];
/**
 * The servers this run starts: one Redis or, with RS_REDIS_CLUSTER=1, the cluster's three; Jaeger unless RS_JAEGER=0,
 * Prometheus unless RS_PROMETHEUS=0 (jaeger.ts, prometheus.ts).
 */
export const INFRA: readonly InfraServer[] = ALL_INFRA.filter(
  (s) =>
    (s !== redis || !REDIS_CLUSTER) &&
    (!redisClusterNodes.includes(s) || REDIS_CLUSTER) &&
    (s !== prometheus || prometheusEnabled()) &&
    (s !== jaeger || jaegerEnabled()),
);
